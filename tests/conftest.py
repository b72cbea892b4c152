"""Fixtures shared by the whole suite: real SQLite and PostgreSQL databases.

``store_engine`` is parametrised over ``sqlite`` and ``postgres`` (visible in test ids).
PostgreSQL comes from ``REVBRIDGE_TEST_PG_URL`` (default: the local server, database
``test``); each test gets a fresh schema. Without a reachable server those tests skip
with the reason, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from revbridge.store import migrate
from revbridge.store.db import create_store_engine
from revbridge.testing.databases import PG_URL, postgres_unavailable, require_postgres


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    return postgres_unavailable()


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
