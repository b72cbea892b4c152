"""The policy versions revbridge has loaded, newest first (recorded by the workers)."""

from __future__ import annotations

from revbridge.service.database import Database
from revbridge.store import config_versions
from revbridge.store.config_versions import ConfigVersion

__all__ = ["ConfigVersion", "history"]


def history(database: Database, limit: int) -> list[ConfigVersion]:
    """The last ``limit`` policy versions, newest (the active one) first."""
    with database.connect() as conn:
        return config_versions.history(conn, limit)
