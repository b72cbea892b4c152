"""Billing invoices the contract suites post: built from an order plan, no billing needed."""

from __future__ import annotations

from datetime import UTC, datetime

from revbridge.canonical import ExternalRef, InvoiceStatus, Money
from revbridge.ports import BilledInvoice, BilledLine, OrderPlan, TaxQuote


def invoice_tax(plan: OrderPlan, quote: TaxQuote | None) -> TaxQuote:
    """The order's tax quote as the invoice's (no tax when the order was sent without)."""
    currency = str(plan.order.currency)
    if quote is not None:
        return quote
    return TaxQuote(
        document=ExternalRef(system="none", id="no-tax"),
        total_tax=Money.zero(currency),
        line_tax={line.line_id: Money.zero(currency) for line in plan.order.lines},
    )


def billed_in_full(
    plan: OrderPlan, invoice_id: str, quote: TaxQuote | None = None
) -> BilledInvoice:
    """A posted billing invoice billing every licensed and one-time line of the order in
    full (usage is billed later, in arrears), with the quote's tax per line."""
    currency = str(plan.order.currency)
    tax = invoice_tax(plan, quote)
    lines = tuple(
        BilledLine(
            line_id=line.line_id,
            description=line.description or line.sku,
            quantity=line.quantity,
            amount=line.amount,
            tax=tax.line_tax.get(line.line_id, Money.zero(currency)),
        )
        for line in plan.order.lines
        if plan.lines[line.line_id].kind != "usage"
    )
    subtotal = Money.total((line.amount for line in lines), currency)
    taxed = Money.total((line.tax for line in lines), currency)
    return BilledInvoice(
        ref=ExternalRef(system="billing", id=invoice_id),
        number=None,
        status=InvoiceStatus.POSTED,
        currency=currency,
        lines=lines,
        subtotal=subtotal,
        tax=taxed,
        total=subtotal + taxed,
        amount_due=subtotal + taxed,
        amount_paid=Money.zero(currency),
        amount_remaining=subtotal + taxed,
        issued_at=datetime.now(UTC),
        correlation_id=plan.order.correlation_id,
        order_id=plan.order.order_id,
    )
