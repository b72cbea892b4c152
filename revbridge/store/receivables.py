"""Invoices and payments on disk: the canonical records the receivables flow keeps.

One row per billing invoice (``rb_invoices``, by ``system:id``), rewritten as the invoice
moves (posted, partly paid, paid) and never moved backwards; one row per payment
collected (``rb_payments``), written once. The API's invoice and payment reads answer
from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from revbridge.canonical import Invoice, InvoiceStatus, Payment
from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import invoices, payments

__all__ = [
    "StoredInvoice",
    "StoredPayment",
    "invoice",
    "invoices_of_deal",
    "payments_of_customer",
    "payments_of_invoice",
    "record_payment",
    "save_invoice",
]

#: How far an invoice has come: a stored invoice never moves back (a late, older read of
#: billing must not turn a paid invoice open again).
_PROGRESS = {
    InvoiceStatus.DRAFT: 0,
    InvoiceStatus.POSTED: 1,
    InvoiceStatus.PARTIALLY_PAID: 2,
    InvoiceStatus.PAID: 3,
    InvoiceStatus.VOID: 3,
    InvoiceStatus.UNCOLLECTIBLE: 3,
}


@dataclass(frozen=True)
class StoredInvoice:
    key: str
    deal_key: str
    correlation_id: str
    legal_entity: str | None
    invoice: Invoice
    updated_at: datetime


@dataclass(frozen=True)
class StoredPayment:
    key: str
    invoice_key: str
    payment: Payment
    recorded_at: datetime


def save_invoice(
    conn: Connection,
    key: str,
    deal_key: str,
    correlation_id: str,
    legal_entity: str | None,
    record: Invoice,
    paid_at: datetime | None = None,
) -> bool:
    """Write the invoice, unless the stored one is further along; True when written."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "invoice_id": record.invoice_id,
        "deal_key": deal_key,
        "correlation_id": correlation_id,
        "customer_id": record.customer_id,
        "legal_entity": legal_entity,
        "status": str(record.status),
        "currency": str(record.currency),
        "total": str(record.total.amount),
        "amount_paid": str(record.amount_paid.amount),
        "issued_at": record.issued_at,
        "due_date": record.due_date.isoformat() if record.due_date else None,
        "paid_at": paid_at,
        "canonical": record.model_dump(mode="json"),
        "updated_at": now,
    }
    if insert_ignore(conn, invoices, {"invoice_key": key, **values}):
        return True
    stored = conn.execute(
        select(invoices.c.status, invoices.c.amount_paid)
        .where(invoices.c.invoice_key == key)
        .with_for_update()
    ).one()
    before = (_PROGRESS[InvoiceStatus(stored.status)], stored.amount_paid)
    if _PROGRESS[record.status] < before[0]:
        return False
    conn.execute(update(invoices).where(invoices.c.invoice_key == key).values(**values))
    return True


def record_payment(conn: Connection, key: str, invoice_key: str, record: Payment) -> bool:
    """Keep the payment once; True the first time."""
    return insert_ignore(
        conn,
        payments,
        {
            "payment_key": key,
            "invoice_key": invoice_key,
            "customer_id": record.customer_id,
            "amount": str(record.amount.amount),
            "currency": str(record.amount.currency),
            "received_at": record.received_at,
            "canonical": record.model_dump(mode="json"),
            "recorded_at": datetime.now(UTC),
        },
    )


def _stored_invoice(row: Any) -> StoredInvoice:
    return StoredInvoice(
        key=row.invoice_key,
        deal_key=row.deal_key,
        correlation_id=row.correlation_id,
        legal_entity=row.legal_entity,
        invoice=Invoice.model_validate(row.canonical),
        updated_at=row.updated_at,
    )


def invoice(conn: Connection, invoice_id: str) -> StoredInvoice | None:
    """The invoice by its billing id (``in_…``) or its key (``stripe:in_…``)."""
    row = conn.execute(
        select(invoices)
        .where((invoices.c.invoice_key == invoice_id) | (invoices.c.invoice_id == invoice_id))
        .limit(1)
    ).first()
    return None if row is None else _stored_invoice(row)


def invoices_of_deal(conn: Connection, deal_key: str) -> list[StoredInvoice]:
    rows = conn.execute(
        select(invoices).where(invoices.c.deal_key == deal_key).order_by(invoices.c.issued_at)
    ).all()
    return [_stored_invoice(row) for row in rows]


def payments_of_invoice(conn: Connection, invoice_key: str) -> list[StoredPayment]:
    rows = conn.execute(
        select(payments)
        .where(payments.c.invoice_key == invoice_key)
        .order_by(payments.c.received_at, payments.c.payment_key)
    ).all()
    return [_stored_payment(row) for row in rows]


def _stored_payment(row: Any) -> StoredPayment:
    return StoredPayment(
        key=row.payment_key,
        invoice_key=row.invoice_key,
        payment=Payment.model_validate(row.canonical),
        recorded_at=row.recorded_at,
    )


def payments_of_customer(
    conn: Connection, customer_id: str, limit: int = 500
) -> list[StoredPayment]:
    """The customer's payments, newest first."""
    rows = conn.execute(
        select(payments)
        .where(payments.c.customer_id == customer_id)
        .order_by(payments.c.received_at.desc(), payments.c.payment_key)
        .limit(limit)
    ).all()
    return [_stored_payment(row) for row in rows]
