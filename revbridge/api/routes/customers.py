"""Customers, invoices and payments, as far as revbridge knows them.

A customer is its bindings: the canonical id and its id in each system. Invoices and
payments are the canonical records the receivables flow keeps once the ERP has them.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from revbridge.api.auth import BillingReader, Reader
from revbridge.api.deps import Context
from revbridge.api.parameters import PathId
from revbridge.canonical import Invoice, Payment
from revbridge.service import customers

router = APIRouter(tags=["customers"])


class SystemId(BaseModel):
    system: str
    id: str


class CustomerView(BaseModel):
    customer_id: str
    ids: list[SystemId]


class PaymentView(BaseModel):
    payment_key: str  # the billing system's payment, ``system:id``
    invoice_key: str
    payment: Payment
    recorded_at: datetime


class InvoiceView(BaseModel):
    invoice_id: str
    invoice_key: str  # the billing system's invoice, ``system:id``
    deal: str
    correlation_id: str
    legal_entity: str | None
    invoice: Invoice
    ids: list[SystemId]
    payments: list[PaymentView]
    updated_at: datetime


class PaymentList(BaseModel):
    customer_id: str
    payments: list[PaymentView]


def _ids(ids: list[customers.SystemId]) -> list[SystemId]:
    return [SystemId(system=i.system, id=i.id) for i in ids]


def _payments(found: list[customers.StoredPayment]) -> list[PaymentView]:
    return [
        PaymentView(
            payment_key=p.key,
            invoice_key=p.invoice_key,
            payment=p.payment,
            recorded_at=p.recorded_at,
        )
        for p in found
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
    """The customer's payments (named by revbridge's id or a system's), newest first."""
    mine = _payments(customers.payments(context.engine, customer_id))
    return PaymentList(customer_id=customer_id, payments=mine)


@router.get("/invoices/{invoice_id}", response_model=InvoiceView)
def invoice(invoice_id: PathId, context: Context, _who: BillingReader) -> InvoiceView:
    """The invoice as carried to the ERP: its canonical record, ids and payments."""
    found = customers.invoice(context.engine, invoice_id)
    if found is None:
        raise HTTPException(404, f"no invoice {invoice_id}")
    record = found.invoice
    return InvoiceView(
        invoice_id=record.invoice_id,
        invoice_key=found.key,
        deal=found.deal_key,
        correlation_id=found.correlation_id,
        legal_entity=found.legal_entity,
        invoice=record,
        ids=[SystemId(system=r.system, id=r.id) for r in record.external_refs],
        payments=_payments(customers.invoice_payments(context.engine, found)),
        updated_at=found.updated_at,
    )
