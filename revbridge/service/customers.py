"""Customers, invoices and payments, as far as revbridge knows them.

A customer is its bindings: the canonical id and its id in each system. Invoices and
payments are followed through the canonical events recorded for them
(``invoice.posted``, ``payment.received``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from revbridge.canonical.events import EventType
from revbridge.service.database import Database
from revbridge.store import bindings
from revbridge.store.tables import event_log

__all__ = ["Invoice", "RecordedEvent", "SystemId", "customer_ids", "invoice", "payments"]

SCAN = 1000


@dataclass(frozen=True)
class SystemId:
    system: str
    id: str


@dataclass(frozen=True)
class RecordedEvent:
    offset: int
    type: str
    subject: str | None
    recorded_at: datetime
    event: dict[str, Any]


@dataclass(frozen=True)
class Invoice:
    ids: list[SystemId]
    events: list[RecordedEvent]


def _ids(conn: Connection, entity: str, canonical_id: str) -> list[SystemId]:
    return [
        SystemId(system=b.system, id=b.external_id)
        for b in bindings.for_canonical(conn, entity, canonical_id)
    ]


def _events(conn: Connection, *conditions: Any) -> list[RecordedEvent]:
    rows = conn.execute(
        select(event_log).where(*conditions).order_by(event_log.c.log_offset.desc()).limit(SCAN)
    ).all()
    return [
        RecordedEvent(
            offset=r.log_offset,
            type=r.event_type,
            subject=r.subject,
            recorded_at=r.recorded_at,
            event=r.event,
        )
        for r in reversed(rows)
    ]


def customer_ids(database: Database, customer_id: str) -> list[SystemId]:
    """The customer's ids in every system (empty: no such customer)."""
    with database.connect() as conn:
        return _ids(conn, "customer", customer_id)


def payments(database: Database, customer_id: str) -> list[RecordedEvent]:
    """Payments recorded for the customer (canonical or any of its system ids)."""
    with database.connect() as conn:
        known = {customer_id} | {i.id for i in _ids(conn, "customer", customer_id)}
        recorded = _events(conn, event_log.c.event_type == EventType.PAYMENT_RECEIVED.ce_type)
    return [e for e in recorded if _customer_of(e.event) in known]


def _customer_of(event: dict[str, Any]) -> str | None:
    data = event.get("data")
    if isinstance(data, dict) and isinstance(data.get("customer_id"), str):
        return str(data["customer_id"])
    stripe_customer = event.get("stripecustomer")
    return stripe_customer if isinstance(stripe_customer, str) else None


def invoice(database: Database, invoice_id: str) -> Invoice:
    """The invoice's ids per system and the events recorded about it (both empty: unknown)."""
    with database.connect() as conn:
        ids = _ids(conn, "invoice", invoice_id)
        subjects = {invoice_id, *(f"{i.system}:{i.id}" for i in ids), *(i.id for i in ids)}
        subjects |= {f"stripe:{invoice_id}"}
        events = _events(conn, or_(*(event_log.c.subject == s for s in subjects)))
    return Invoice(ids=ids, events=events)
