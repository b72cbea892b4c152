"""The embedded event log: canonical events in a table, read back by offset.

Offsets come from a locked counter inside the appending transaction, so they are
gap-free and commit in order: a reader that has seen offset N never later finds an
event below N. Appending the same event id twice stores it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from revbridge.store import counters
from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import event_log


@dataclass(frozen=True)
class LoggedEvent:
    offset: int
    event_id: str
    event_type: str
    subject: str | None
    correlation_id: str | None
    event: dict[str, Any]
    recorded_at: datetime


def append(conn: Connection, event: dict[str, Any]) -> int | None:
    """Append a CloudEvents-shaped dict in the caller's transaction; its offset, or None
    when an event with the same id is already in the log."""
    exists = conn.execute(
        select(event_log.c.log_offset).where(event_log.c.event_id == event["id"])
    ).scalar_one_or_none()
    if exists is not None:
        return None
    # Counters are locked in one order, the audit's first, whatever the caller appends
    # first: two transactions that both audit and log then never wait on each other.
    counters.hold(conn, counters.AUDIT)
    offset, _ = counters.advance(conn, counters.EVENT_LOG)
    inserted = insert_ignore(
        conn,
        event_log,
        {
            "log_offset": offset,
            "event_id": event["id"],
            "event_type": event["type"],
            "subject": event.get("subject"),
            "correlation_id": event.get("correlationid"),
            "event": event,
            "recorded_at": datetime.now(UTC),
        },
    )
    return offset if inserted else None


def read(engine: Engine, after: int = 0, limit: int = 100) -> list[LoggedEvent]:
    """Events with an offset greater than ``after``, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(event_log)
            .where(event_log.c.log_offset > after)
            .order_by(event_log.c.log_offset)
            .limit(limit)
        ).all()
    return [
        LoggedEvent(
            offset=r.log_offset,
            event_id=r.event_id,
            event_type=r.event_type,
            subject=r.subject,
            correlation_id=r.correlation_id,
            event=r.event,
            recorded_at=r.recorded_at,
        )
        for r in rows
    ]


def head(engine: Engine) -> int:
    with engine.connect() as conn:
        top = conn.execute(select(func.max(event_log.c.log_offset))).scalar_one_or_none()
    return int(top or 0)
