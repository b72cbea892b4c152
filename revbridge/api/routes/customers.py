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

from revbridge.api.auth import BillingReader, Reader
from revbridge.api.deps import Context
from revbridge.api.parameters import PathId
from revbridge.service import customers

router = APIRouter(tags=["customers"])


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


def _ids(ids: list[customers.SystemId]) -> list[SystemId]:
    return [SystemId(system=i.system, id=i.id) for i in ids]


def _events(events: list[customers.RecordedEvent]) -> list[RecordedEvent]:
    return [
        RecordedEvent(
            offset=e.offset,
            type=e.type,
            subject=e.subject,
            recorded_at=e.recorded_at,
            event=e.event,
        )
        for e in events
    ]


@router.get("/customers/{customer_id}", response_model=CustomerView)
def customer(customer_id: PathId, context: Context, _who: Reader) -> CustomerView:
    """The customer's ids in every system."""
    ids = _ids(customers.customer_ids(context.engine, customer_id))
    if not ids:
        raise HTTPException(404, f"no customer {customer_id}")
    return CustomerView(customer_id=customer_id, ids=ids)


@router.get("/customers/{customer_id}/payments", response_model=PaymentList)
def payments(customer_id: PathId, context: Context, _who: BillingReader) -> PaymentList:
    """Payments recorded for the customer (canonical or any of its system ids)."""
    mine = _events(customers.payments(context.engine, customer_id))
    return PaymentList(customer_id=customer_id, payments=mine)


@router.get("/invoices/{invoice_id}", response_model=InvoiceView)
def invoice(invoice_id: PathId, context: Context, _who: BillingReader) -> InvoiceView:
    """The invoice's ids per system and the events recorded about it."""
    found = customers.invoice(context.engine, invoice_id)
    if not found.ids and not found.events:
        raise HTTPException(404, f"no invoice {invoice_id}")
    return InvoiceView(invoice_id=invoice_id, ids=_ids(found.ids), events=_events(found.events))
