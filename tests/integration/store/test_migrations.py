"""Migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from revbridge.store import migrate
from revbridge.store.tables import metadata


def test_migrated_schema_matches_the_tables(store_engine: Engine) -> None:
    assert migrate.current(store_engine) == migrate.head()
    with store_engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_upgrade_twice_is_harmless(store_engine: Engine) -> None:
    assert migrate.upgrade(store_engine) == migrate.head()
