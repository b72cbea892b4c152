"""Fixtures shared by the whole suite: real SQLite and PostgreSQL databases.

``store_engine`` is parametrised over ``sqlite`` and ``postgres`` (visible in test ids).
PostgreSQL comes from ``REVBRIDGE_TEST_PG_URL`` (default: the local server, database
``test``); each test gets a fresh schema. Without a reachable server those tests skip
with the reason, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from revbridge.store import migrate
from revbridge.store.db import create_store_engine

PG_URL = os.environ.get("REVBRIDGE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_unavailable() -> str | None:
    engine = create_store_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        return f"PostgreSQL not reachable at {PG_URL}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()
    return None


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    return _postgres_unavailable()


def require_postgres(reason: str | None) -> None:
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true requires PostgreSQL: {reason}")
    pytest.skip(reason)


@pytest.fixture
def pg_url(postgres_reason: str | None) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    require_postgres(postgres_reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_store_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in PG_URL else "?"
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'revbridge.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated-ready database URL on each backend."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store_engine(db_url: str) -> Iterator[Engine]:
    """A migrated revbridge database on SQLite and on PostgreSQL."""
    engine = create_store_engine(db_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
