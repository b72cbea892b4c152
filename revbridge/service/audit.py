"""The audit log as the faces read it: entries in order, and the hash chain verified.

Entries are written by the commands that change something (:mod:`~revbridge.service.cases`,
:mod:`~revbridge.service.replays`, :mod:`~revbridge.service.access`…), in the same
transaction as the change.
"""

from __future__ import annotations

from collections.abc import Iterator

from revbridge.service.database import Database
from revbridge.store import audit
from revbridge.store.audit import AuditEntry, ChainReport

__all__ = ["AuditEntry", "ChainReport", "entries", "verify"]


def entries(
    database: Database, after_seq: int = 0, limit: int | None = None
) -> Iterator[AuditEntry]:
    """The entries after ``after_seq``, in order, at most ``limit``."""
    return audit.entries(database, after_seq=after_seq, limit=limit)


def verify(database: Database) -> ChainReport:
    """Check the hash chain; the report names the first edited, inserted or deleted row."""
    return audit.verify(database)
