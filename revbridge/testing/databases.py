"""Real databases for tests: is PostgreSQL there, and what to do when it is not."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from revbridge.store.db import create_store_engine

PG_URL = os.environ.get("REVBRIDGE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def postgres_unavailable(url: str = PG_URL) -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    engine = create_store_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        return f"PostgreSQL not reachable at {url}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def require(what: str, reason: str | None) -> None:
    """A test needs ``what`` (PostgreSQL, a NATS server, Chromium …), unavailable for
    ``reason`` (None: available): skip with the reason on a developer machine, fail under
    ``CI=true``, where every service must be there."""
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true requires {what}: {reason}")
    pytest.skip(reason)


def require_postgres(reason: str | None) -> None:
    require("PostgreSQL", reason)
