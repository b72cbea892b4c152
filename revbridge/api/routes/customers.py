"""Customers, invoices and payments, as far as revbridge knows them.

A customer is its bindings: the canonical id and its id in each system. Invoices and
payments are followed only through Stripe's webhooks so far: what the store has are the
bindings and the canonical events (``invoice.posted``, ``payment.received``) recorded for
them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel
from sqlalchemy import Connection, or_, select

from revbridge.api.auth import BillingReader, Reader
from revbridge.api.deps import Context
from revbridge.api.parameters import PathId
from revbridge.canonical.events import EventType
from revbridge.store import bindings
from revbridge.store.tables import event_log

router = APIRouter(tags=["customers"])
SCAN = 1000


class SystemId(BaseModel):
    system: str
    id: str


class CustomerView(BaseModel):
    customer_id: str
    ids: list[SystemId]


class RecordedEvent(BaseModel):
    offset: int
    type: str
    subject: str | None
    recorded_at: datetime
    event: dict[str, Any]


class InvoiceView(BaseModel):
    invoice_id: str
    ids: list[SystemId]
    events: list[RecordedEvent]


class PaymentList(BaseModel):
    customer_id: str
    payments: list[RecordedEvent]


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


@router.get("/customers/{customer_id}", response_model=CustomerView)
def customer(customer_id: PathId, context: Context, _who: Reader) -> CustomerView:
    """The customer's ids in every system."""
    with context.engine.connect() as conn:
        ids = _ids(conn, "customer", customer_id)
    if not ids:
        raise HTTPException(404, f"no customer {customer_id}")
    return CustomerView(customer_id=customer_id, ids=ids)


@router.get("/customers/{customer_id}/payments", response_model=PaymentList)
def payments(customer_id: PathId, context: Context, _who: BillingReader) -> PaymentList:
    """Payments recorded for the customer (canonical or any of its system ids)."""
    with context.engine.connect() as conn:
        known = {customer_id} | {i.id for i in _ids(conn, "customer", customer_id)}
        recorded = _events(conn, event_log.c.event_type == EventType.PAYMENT_RECEIVED.ce_type)
    mine = [e for e in recorded if _customer_of(e.event) in known]
    return PaymentList(customer_id=customer_id, payments=mine)


def _customer_of(event: dict[str, Any]) -> str | None:
    data = event.get("data")
    if isinstance(data, dict) and isinstance(data.get("customer_id"), str):
        return str(data["customer_id"])
    stripe_customer = event.get("stripecustomer")
    return stripe_customer if isinstance(stripe_customer, str) else None


@router.get("/invoices/{invoice_id}", response_model=InvoiceView)
def invoice(invoice_id: PathId, context: Context, _who: BillingReader) -> InvoiceView:
    """The invoice's ids per system and the events recorded about it."""
    with context.engine.connect() as conn:
        ids = _ids(conn, "invoice", invoice_id)
        subjects = {invoice_id, *(f"{i.system}:{i.id}" for i in ids), *(i.id for i in ids)}
        subjects |= {f"stripe:{invoice_id}"}
        events = _events(conn, or_(*(event_log.c.subject == s for s in subjects)))
    if not ids and not events:
        raise HTTPException(404, f"no invoice {invoice_id}")
    return InvoiceView(invoice_id=invoice_id, ids=ids, events=events)
