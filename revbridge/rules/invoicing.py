"""Does a billing invoice bill the order that was booked? And what the ERP invoice holds.

:func:`invoice_findings` compares a posted billing invoice with the deal's booked plan,
line by line, before anything reaches the ERP. A difference is a finance case, never a
silently posted invoice:

- the invoice is in the order's currency;
- every line bills a line of the order (revbridge wrote the order line id on what it
  created in billing);
- a subscription line bills the seats ordered and at most the order line's amount (a
  period of the term, or a proration of it);
- a one-time (service) line bills exactly the order line's amount;
- usage (metered) lines bill what was used: any amount, in the currency;
- the lines add up to the invoice's amount before tax.

:func:`posted_findings` checks the ERP invoice once posted: its total and tax are
billing's, to the cent (a difference is a case; the invoice is not announced as posted).

:func:`erp_invoice` is the ERP invoice for a checked billing invoice: its lines bill the
order lines they name, with the tax the tax engine recorded for the invoice. Usage is
billed beyond the order (what was used, not what was ordered): its lines name the
product's ERP item instead.
"""

from __future__ import annotations

from datetime import UTC, datetime

from revbridge.canonical import Money, OrderLine
from revbridge.ports import (
    BilledInvoice,
    ErpInvoice,
    ErpInvoiceLine,
    OrderPlan,
    PostedErpInvoice,
    TaxQuote,
)

__all__ = ["erp_invoice", "invoice_findings", "posted_findings", "tax_findings"]


def _order_lines(plan: OrderPlan) -> dict[str, tuple[int, OrderLine]]:
    return {line.line_id: (i, line) for i, line in enumerate(plan.order.lines, start=1)}


def invoice_findings(plan: OrderPlan, invoice: BilledInvoice) -> list[str]:
    """What stops this invoice from being posted against the plan's order (empty: none)."""
    order = plan.order
    currency = str(order.currency)
    if invoice.currency != currency:
        return [f"invoice {invoice.ref.id} is in {invoice.currency}, the order in {currency}"]
    found: list[str] = []
    lines = _order_lines(plan)
    for index, billed in enumerate(invoice.lines, start=1):
        what = f"invoice line {index} ({billed.description})"
        known = lines.get(billed.line_id or "")
        if known is None:
            found.append(f"{what} bills no line of order {order.order_id}")
            continue
        line = known[1]
        mapping = plan.lines.get(line.line_id)
        kind = mapping.kind if mapping is not None else str(line.kind)
        if billed.metered or kind == "usage":
            continue
        if kind == "subscription":
            if billed.quantity != line.quantity:
                found.append(
                    f"{what} bills {billed.quantity} of {line.sku}, the order has {line.quantity}"
                )
            if billed.amount.amount > line.amount.amount:
                found.append(
                    f"{what} bills {billed.amount}, more than the order line's {line.amount}"
                )
        elif billed.amount != line.amount:
            found.append(f"{what} bills {billed.amount}, the order line is {line.amount}")
    billed_total = Money.total((b.amount for b in invoice.lines), currency)
    if billed_total != invoice.subtotal:
        found.append(
            f"the lines add up to {billed_total}, the invoice before tax is {invoice.subtotal}"
        )
    return found


def tax_findings(invoice: BilledInvoice, tax: TaxQuote) -> list[str]:
    """A billing invoice that charged tax must charge what the tax engine recorded."""
    if invoice.tax.amount and invoice.tax != tax.total_tax:
        return [
            f"billing charged {invoice.tax} of tax on invoice {invoice.ref.id}, "
            f"the tax engine recorded {tax.total_tax}"
        ]
    return []


def posted_findings(invoice: BilledInvoice, posted: PostedErpInvoice) -> list[str]:
    """The ERP invoice must hold what billing invoiced, to the cent."""
    found = []
    if posted.total != invoice.total:
        found.append(f"ERP invoice {posted.ref.id} totals {posted.total}, billing {invoice.total}")
    if posted.tax != invoice.tax:
        found.append(f"ERP invoice {posted.ref.id} taxes {posted.tax}, billing {invoice.tax}")
    return found


def erp_invoice(plan: OrderPlan, invoice: BilledInvoice, tax: TaxQuote) -> ErpInvoice:
    """The ERP invoice of a checked billing invoice (its lines bill known order lines)."""
    lines = _order_lines(plan)
    currency = invoice.currency
    taxes = dict(tax.line_tax)
    billed_lines = []
    for billed in invoice.lines:
        position, line = lines[billed.line_id or ""]
        # the tax of an order line billed on several invoice lines goes on the first
        line_tax = taxes.pop(line.line_id, Money.zero(currency))
        mapping = plan.lines.get(line.line_id)
        metered = billed.metered or (mapping is not None and mapping.kind == "usage")
        billed_lines.append(
            ErpInvoiceLine(
                line_id=line.line_id,
                position=position,
                item=mapping.erp_item if metered and mapping is not None else None,
                quantity=billed.quantity or line.quantity,
                amount=billed.amount,
                tax=line_tax,
            )
        )
    issued = invoice.issued_at or datetime.now(UTC)
    return ErpInvoice(
        external_id=invoice.ref.id,
        number=invoice.number,
        currency=currency,
        issued_on=issued.date(),
        due_on=invoice.due_date,
        lines=tuple(billed_lines),
        memo=f"billing invoice {invoice.number or invoice.ref.id}; revbridge correlation "
        f"{plan.order.correlation_id}",
    )
