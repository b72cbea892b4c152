"""Stripe invoices read back as :class:`~revbridge.ports.BilledInvoice`.

An invoice's lines say which order line they bill through the metadata revbridge wrote:
an invoice item's own ``revbridge_line_id``, a subscription line's through its
subscription item (``parent.subscription_item_details.subscription_item``), whose metadata
carries the line id. Amounts are integer minor units in the invoice's currency; a line's
amount is net of its discounts and before tax, its tax the sum of ``taxes`` (current API
versions) or ``tax_amounts`` (older ones). Money collected is Stripe's ``InvoicePayment``
objects in status ``paid``; why collecting failed is the invoice's own PaymentIntent's
``last_payment_error``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from revbridge.canonical import ExternalRef, InvoiceStatus, Money
from revbridge.connectors.stripe.mapping import CORRELATION_KEY, LINE_ID_KEY, ORDER_ID_KEY
from revbridge.errors import DataError
from revbridge.ports import BilledInvoice, BilledLine, BilledPayment

Record = dict[str, Any]

#: Stripe's invoice status → the canonical one (``open`` with money paid: partly paid).
STATUSES: dict[str, InvoiceStatus] = {
    "draft": InvoiceStatus.DRAFT,
    "open": InvoiceStatus.POSTED,
    "paid": InvoiceStatus.PAID,
    "void": InvoiceStatus.VOID,
    "uncollectible": InvoiceStatus.UNCOLLECTIBLE,
}


def _units(value: Any) -> int:
    return value if type(value) is int else 0


def _money(units: Any, currency: str) -> Money:
    return Money.from_minor_units(_units(units), currency)


def _instant(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if type(value) is int else None


def _day(value: Any) -> date | None:
    moment = _instant(value)
    return None if moment is None else moment.date()


def _tax_units(holder: Record) -> int:
    taxes = holder.get("taxes")
    if isinstance(taxes, list):
        return sum(_units(t.get("amount")) for t in taxes if isinstance(t, dict))
    amounts = holder.get("tax_amounts")
    if isinstance(amounts, list):
        return sum(_units(t.get("amount")) for t in amounts if isinstance(t, dict))
    return 0


def _invoice_tax_units(invoice: Record) -> int:
    taxes = invoice.get("total_taxes")
    if isinstance(taxes, list):
        return sum(_units(t.get("amount")) for t in taxes if isinstance(t, dict))
    return _units(invoice.get("tax"))


def metadata_of(invoice: Record) -> Record:
    """The metadata revbridge wrote on what the invoice bills: the subscription's (copied
    by Stripe onto its invoices) or, for invoice items only, the first item line's."""
    parent = invoice.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    for holder in (details, invoice.get("subscription_details"), invoice):
        metadata = holder.get("metadata") if isinstance(holder, dict) else None
        if isinstance(metadata, dict) and metadata.get(CORRELATION_KEY):
            return metadata
    for line in lines_of(invoice):
        metadata = line.get("metadata")
        if isinstance(metadata, dict) and metadata.get(CORRELATION_KEY):
            return metadata
    return {}


def lines_of(invoice: Record) -> list[Record]:
    lines = invoice.get("lines")
    data = lines.get("data") if isinstance(lines, dict) else None
    return [line for line in data or [] if isinstance(line, dict)]


def subscription_item_of(line: Record) -> str | None:
    parent = line.get("parent")
    details = parent.get("subscription_item_details") if isinstance(parent, dict) else None
    item = details.get("subscription_item") if isinstance(details, dict) else None
    return item if isinstance(item, str) else line.get("subscription_item")


def billed_line(line: Record, currency: str, items: Mapping[str, Record]) -> BilledLine:
    """One invoice line; ``items`` are the subscription's items by id."""
    metadata = line.get("metadata") if isinstance(line.get("metadata"), dict) else {}
    line_id = metadata.get(LINE_ID_KEY) if isinstance(metadata, dict) else None
    metered = False
    item = items.get(subscription_item_of(line) or "")
    if item is not None:
        line_id = (item.get("metadata") or {}).get(LINE_ID_KEY) or line_id
        recurring = (item.get("price") or {}).get("recurring") or {}
        metered = recurring.get("usage_type") == "metered"
    discounts = sum(
        _units(d.get("amount")) for d in line.get("discount_amounts") or [] if isinstance(d, dict)
    )
    period = line.get("period") if isinstance(line.get("period"), dict) else {}
    quantity = line.get("quantity")
    return BilledLine(
        line_id=str(line_id) if line_id else None,
        description=str(line.get("description") or line.get("id") or "line")[:500],
        quantity=Decimal(quantity) if type(quantity) is int else Decimal(0),
        amount=_money(_units(line.get("amount")) - discounts, currency),
        tax=_money(_tax_units(line), currency),
        metered=metered,
        period_start=_day(period.get("start")) if isinstance(period, dict) else None,
        period_end=_day(period.get("end")) if isinstance(period, dict) else None,
    )


def billed_payment(system: str, payment: Record, currency: str) -> BilledPayment:
    transitions = payment.get("status_transitions") or {}
    received = _instant(transitions.get("paid_at")) or _instant(payment.get("created"))
    if received is None:
        raise DataError(
            f"{system}: payment {payment.get('id')!r} has no time", system=system, code="payment"
        )
    return BilledPayment(
        ref=ExternalRef(system=system, id=str(payment["id"])),
        amount=_money(payment.get("amount_paid"), currency),
        received_at=received,
    )


def billed_invoice(
    system: str,
    invoice: Record,
    items: Mapping[str, Record],
    payments: Iterable[Record],
    last_error: Record | None = None,
) -> BilledInvoice:
    """The invoice as a port model; :class:`DataError` when Stripe's answer is not one."""
    status = STATUSES.get(str(invoice.get("status")))
    currency = str(invoice.get("currency") or "").upper()
    if status is None or len(currency) != 3 or not isinstance(invoice.get("id"), str):
        raise DataError(
            f"{system}: invoice {invoice.get('id')!r} has no status or currency revbridge reads",
            system=system,
            code="invoice_shape",
        )
    total = _units(invoice.get("total"))
    tax = _invoice_tax_units(invoice)
    paid = _units(invoice.get("amount_paid"))
    if status is InvoiceStatus.POSTED and paid > 0:
        status = InvoiceStatus.PARTIALLY_PAID
    metadata = metadata_of(invoice)
    transitions = invoice.get("status_transitions") or {}
    collected = [
        billed_payment(system, p, currency)
        for p in payments
        if p.get("status") == "paid" and _units(p.get("amount_paid")) > 0
    ]
    attempts = _units(invoice.get("attempt_count"))
    failure = None
    if attempts and status in (InvoiceStatus.POSTED, InvoiceStatus.PARTIALLY_PAID):
        failure = _failure(invoice, attempts, last_error)
    return BilledInvoice(
        ref=ExternalRef(system=system, id=invoice["id"]),
        number=str(invoice["number"])[:64] if invoice.get("number") else None,
        status=status,
        currency=currency,
        lines=tuple(billed_line(line, currency, items) for line in lines_of(invoice)),
        subtotal=_money(total - tax, currency),
        tax=_money(tax, currency),
        total=_money(total, currency),
        amount_due=_money(invoice.get("amount_due"), currency),
        amount_paid=_money(paid, currency),
        amount_remaining=_money(invoice.get("amount_remaining"), currency),
        issued_at=_instant(transitions.get("finalized_at")),
        due_date=_day(invoice.get("due_date")),
        paid_at=_instant(transitions.get("paid_at")),
        correlation_id=_text(metadata.get(CORRELATION_KEY)),
        order_id=_text(metadata.get(ORDER_ID_KEY)),
        attempts=attempts,
        failure=failure,
        payments=tuple(collected),
    )


def _failure(invoice: Record, attempts: int, error: Record | None) -> str:
    """``payment declined: insufficient_funds (attempt 1, next 2027-01-04)``: the decline
    code of the invoice's PaymentIntent when it has one."""
    when = _instant(invoice.get("next_payment_attempt"))
    retry = f", next {when:%Y-%m-%d}" if when is not None else ", no retry scheduled"
    code = (error or {}).get("decline_code") or (error or {}).get("code")
    what = f"payment declined: {code}" if code else "payment failed"
    return f"{what} (attempt {attempts}{retry})"


def _text(value: Any) -> str | None:
    return str(value)[:128] if isinstance(value, str) and value else None
