"""The fleet and the alerts as the operators read them: every worker with whether it is
alive, and the stored state of every alert rule."""

from __future__ import annotations

from datetime import datetime

from revbridge.service.database import Database
from revbridge.store import alerts, workers
from revbridge.store.alerts import AlertState
from revbridge.store.workers import Worker

__all__ = ["AlertState", "Worker", "alert_states", "alive", "everyone"]


def everyone(database: Database) -> list[Worker]:
    """Every worker that ever registered."""
    with database.connect() as conn:
        return workers.everyone(conn)


def alive(database: Database, timeout_s: float, now: datetime) -> set[str]:
    """The executor ids whose heartbeat is younger than ``timeout_s`` at ``now``."""
    with database.connect() as conn:
        return {w.executor_id for w in workers.fleet(conn, timeout_s, now)}


def alert_states(database: Database) -> list[AlertState]:
    """The stored state of every alert rule evaluated so far."""
    with database.connect() as conn:
        return alerts.listing(conn)
