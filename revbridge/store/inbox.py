"""The inbox: every inbound event is recorded once before it starts any work.

An event is a duplicate when its ``(source, event_id)`` was seen before, or when another
event already carried the same business key and version (the same change delivered
under a different id). Rows are kept at least ``RETENTION`` (7 days: longer than
Salesforce's 72 h replay window and Stripe's 3 days of retries).

Every duplicate also bumps the durable ``inbox_duplicates`` counter in ``rb_counters``, in
the caller's transaction: the count survives restarts and purges, is shared by every
process, and is rolled back with a transaction that fails (read it with
:func:`duplicates_suppressed`; the metrics expose it as
``revbridge_duplicates_suppressed_total``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import counters, inbox

RETENTION = timedelta(days=7)
DUPLICATES_COUNTER = "inbox_duplicates"


class Outcome(StrEnum):
    NEW = "new"  # first time seen: start the work
    DUPLICATE_EVENT = "duplicate_event"  # same source and event id as an earlier event
    DUPLICATE_CHANGE = "duplicate_change"  # same business key and version, other event id


@dataclass(frozen=True)
class InboundEvent:
    source: str
    event_id: str
    event_type: str
    payload: dict[str, Any]
    business_key: str | None = None
    business_version: str | None = None
    correlation_id: str | None = None


def record(conn: Connection, event: InboundEvent, now: datetime | None = None) -> Outcome:
    """Record ``event`` in the caller's transaction; say whether it is new."""
    inserted = insert_ignore(
        conn,
        inbox,
        {
            "source": event.source,
            "event_id": event.event_id,
            "event_type": event.event_type,
            "business_key": event.business_key,
            "business_version": event.business_version,
            "correlation_id": event.correlation_id,
            "payload": event.payload,
            "received_at": now or datetime.now(UTC),
        },
    )
    if inserted:
        return Outcome.NEW
    _count_duplicate(conn)
    same_id = conn.execute(
        select(func.count())
        .select_from(inbox)
        .where(inbox.c.source == event.source, inbox.c.event_id == event.event_id)
    ).scalar_one()
    return Outcome.DUPLICATE_EVENT if same_id else Outcome.DUPLICATE_CHANGE


def _count_duplicate(conn: Connection) -> None:
    bump = update(counters).where(counters.c.name == DUPLICATES_COUNTER)
    if conn.execute(bump.values(value=counters.c.value + 1)).rowcount:
        return
    if not insert_ignore(conn, counters, {"name": DUPLICATES_COUNTER, "value": 1}):
        conn.execute(bump.values(value=counters.c.value + 1))  # another writer created it


def duplicates_suppressed(conn: Connection) -> int:
    """How many inbound events were recognised as duplicates, ever."""
    value = conn.execute(
        select(counters.c.value).where(counters.c.name == DUPLICATES_COUNTER)
    ).scalar_one_or_none()
    return 0 if value is None else int(value)


def purge(conn: Connection, older_than: timedelta = RETENTION, now: datetime | None = None) -> int:
    """Delete inbox rows older than the retention (never less than 7 days)."""
    older_than = max(older_than, RETENTION)
    cutoff = (now or datetime.now(UTC)) - older_than
    return int(conn.execute(delete(inbox).where(inbox.c.received_at < cutoff)).rowcount)


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(inbox)).scalar_one())
