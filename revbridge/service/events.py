"""Canonical events: recorded once from any source, appended to the event log, audited;
read back by offset; and an ownership refusal audited.

The API's ``POST /v1/events``, ``GET /v1/events`` and billing webhooks call these; a
duplicate (the same source and id again) changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from revbridge.canonical.events import BusinessEvent
from revbridge.ports import BillingEvent
from revbridge.service.database import Database
from revbridge.store import audit, inbox
from revbridge.store.inbox import InboundEvent, Outcome
from revbridge.stream import sql_log
from revbridge.stream.sql_log import LoggedEvent

__all__ = ["LoggedEvent", "Recorded", "read", "record", "record_billing_event", "refuse"]


@dataclass(frozen=True)
class Recorded:
    new: bool
    offset: int | None


def record(database: Database, event: BusinessEvent, actor: str) -> Recorded:
    """Record ``event`` once: the inbox, the event log and the audit log, together."""
    structured = json.loads(event.model_dump_json(exclude_none=True))
    inbound = InboundEvent(
        source=event.source,
        event_id=event.id,
        event_type=event.type.ce_type,
        payload=structured,
        correlation_id=event.correlationid,
    )
    with database.begin() as conn:
        outcome = inbox.record(conn, inbound)
        offset = None
        if outcome is Outcome.NEW:
            offset = sql_log.append(conn, structured)
            audit.append(
                conn,
                actor=actor,
                action="event.ingested",
                subject=f"{event.source}#{event.id}",
                after={"type": event.type.ce_type, "offset": offset},
                correlation_id=event.correlationid,
            )
    return Recorded(new=outcome is Outcome.NEW, offset=offset)


def record_billing_event(database: Database, event: BillingEvent) -> Recorded:
    """Record a billing system's signed event once: the inbox and the audit log. What it
    means (``invoice.posted``, ``payment.received``) is appended to the event log by the
    receivables flow once the ERP has it, carrying the canonical invoice or payment."""
    canonical = event.canonical
    inbound = InboundEvent(
        source=event.source,
        event_id=event.event_id,
        event_type=event.event_type,
        payload=event.payload,
        correlation_id=None if canonical is None else canonical.correlationid,
    )
    with database.begin() as conn:
        outcome = inbox.record(conn, inbound)
        if outcome is Outcome.NEW:
            audit.append(
                conn,
                actor=f"webhook:{event.source} (signature)",
                action="webhook.received",
                subject=f"{event.source}#{event.event_id}",
                after={"type": inbound.event_type},
            )
    return Recorded(new=outcome is Outcome.NEW, offset=None)


def refuse(database: Database, event: BusinessEvent, actor: str, after: dict[str, Any]) -> None:
    """Audit an event refused because it writes fields another system of record owns."""
    with database.begin() as conn:
        audit.append(
            conn,
            actor=actor,
            action="ownership.conflict",
            subject=f"{event.source}#{event.id}",
            before=None,
            after=after,
            correlation_id=event.correlationid,
        )


def read(database: Database, after: int, limit: int) -> list[LoggedEvent]:
    """Canonical events with an offset greater than ``after``, oldest first."""
    return sql_log.read(database, after=after, limit=limit)
