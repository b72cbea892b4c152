"""Invoice mechanics shared by the invoice endpoints and the billing cycle.

Building an invoice and its lines, keeping totals right, and its status changes:
finalizing (number, hosted URL, due date), paid, void, uncollectible. Charging is
:mod:`.collection`'s. Every function takes the moment ``at`` it happens, so work done while a
clock advances carries the time it was due, not the time it ran.
"""

from __future__ import annotations

from typing import Any

from revbridge_sandboxes.stripe import taxes
from revbridge_sandboxes.stripe.state import StripeState
from revbridge_sandboxes.stripe.tables import Record, new_id, new_token
from revbridge_sandboxes.stripe.tax_rates import rates_of

DAY = 86_400
#: Drafts with ``auto_advance`` are finalized about an hour after they are created.
FINALIZE_DELAY_S = 3600
ACCOUNT = "acct_1SandboxRevbridge"
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$"}
_ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd"}


def money(amount: int | None, currency: str) -> str:
    """``1000, usd`` → ``$10.00``, as Stripe writes amounts in line descriptions."""
    value = amount or 0
    symbol = _SYMBOLS.get(currency, currency.upper() + " ")
    if currency in _ZERO_DECIMAL:
        return f"{symbol}{value}"
    return f"{symbol}{value / 100:,.2f}"


def new_invoice(
    state: StripeState,
    customer: Record,
    at: int,
    *,
    currency: str,
    subscription: Record | None = None,
    billing_reason: str = "manual",
    collection_method: str = "charge_automatically",
    days_until_due: int | None = None,
    auto_advance: bool = False,
    period: tuple[int, int] | None = None,
    fields: dict[str, Any] | None = None,
) -> Record:
    """A draft invoice (not yet emitted: call :func:`open_draft` once lines are in)."""
    start, end = period or (at, at)
    parent = None
    if subscription is not None:
        details = {"metadata": dict(subscription["metadata"]), "subscription": subscription["id"]}
        details["subscription_proration_date"] = None
        parent = {
            "quote_details": None,
            "subscription_details": details,
            "type": "subscription_details",
        }
    invoice: Record = {
        "id": new_id("in"),
        "object": "invoice",
        "account_country": "US",
        "account_name": "Revbridge Sandbox",
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": auto_advance,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "automatically_finalizes_at": at + FINALIZE_DELAY_S if auto_advance else None,
        "billing_reason": billing_reason,
        "collection_method": collection_method,
        "created": at,
        "currency": currency,
        "custom_fields": None,
        "customer": customer["id"],
        "customer_address": customer.get("address"),
        "customer_email": customer.get("email"),
        "customer_name": customer.get("name"),
        "customer_phone": customer.get("phone"),
        "customer_shipping": customer.get("shipping"),
        "customer_tax_exempt": customer.get("tax_exempt"),
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": parent,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": end,
        "period_start": start,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "test_clock": customer.get("test_clock"),
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
        "_days_until_due": days_until_due,
        "_default_tax_rates": list(subscription.get("_default_tax_rates") or [])
        if subscription is not None
        else [],
        "_sub_lines": [],
        "_items": [],
        "_lines": [],
        "_payments": [],
    }
    invoice.update(fields or {})
    return invoice


def open_draft(state: StripeState, invoice: Record, at: int) -> None:
    """Store a new draft, emit ``invoice.created`` and schedule its auto-finalization."""
    refresh(state, invoice)
    state.invoices.add(invoice)
    state.emit("invoice.created", invoice, at=at)
    if invoice["auto_advance"] and invoice["automatically_finalizes_at"] is not None:
        state.schedule(invoice["automatically_finalizes_at"], invoice["test_clock"])


def attach_item(state: StripeState, invoice: Record, item: Record) -> None:
    item["invoice"] = invoice["id"]
    if item["id"] not in invoice["_items"]:
        invoice["_items"].append(item["id"])


def refresh(state: StripeState, invoice: Record) -> None:
    """Rebuild the lines from the subscription lines and attached items; tax them (see
    :mod:`.taxes`) and recompute the totals."""
    lines = list(invoice["_sub_lines"])
    for item_id in invoice["_items"]:
        item = state.invoiceitems.get(item_id)
        if item is not None:
            lines.append(item_line(invoice, item))
    defaults = invoice.get("_default_tax_rates") or []
    for line in lines:
        rates = rates_of(state, line.get("_tax_rates") or defaults)
        line["taxes"] = taxes.line_taxes(line["amount"], rates)
    invoice["_lines"] = lines
    taxes.apply_totals(invoice, lines)


def item_line(invoice: Record, item: Record) -> dict[str, Any]:
    details = {
        "invoice_item": item["id"],
        "proration": False,
        "proration_details": {"credited_items": None},
        "subscription": (item.get("parent") or {})
        .get("subscription_details", {})
        .get("subscription"),
    }
    return {
        "id": item["_line_id"],
        "object": "line_item",
        "amount": item["amount"],
        "currency": item["currency"],
        "description": item["description"],
        "discount_amounts": [],
        "discountable": item["discountable"],
        "discounts": [],
        "invoice": invoice["id"],
        "livemode": False,
        "metadata": dict(item["metadata"]),
        "parent": {
            "invoice_item_details": details,
            "subscription_item_details": None,
            "type": "invoice_item_details",
        },
        "period": dict(item["period"]),
        "pretax_credit_amounts": [],
        "pricing": item["pricing"],
        "quantity": item["quantity"],
        "subtotal": item["amount"],
        "taxes": [],
        "_tax_rates": list(item.get("_tax_rates") or []),
    }


def subscription_line(
    invoice: Record,
    sub: Record,
    item: Record,
    price: Record,
    product_name: str,
    quantity: int,
    amount: int,
    period: tuple[int, int],
    trial: bool = False,
) -> dict[str, Any]:
    recurring = price["recurring"] or {}
    count, interval = recurring.get("interval_count") or 1, recurring.get("interval")
    every = f"/ {interval}" if count == 1 else f"every {count} {interval}s"
    unit = money(price["unit_amount"], price["currency"])
    description = f"{quantity} \N{MULTIPLICATION SIGN} {product_name} (at {unit} {every})"
    if trial:
        description = f"Trial period for {product_name}"
    details = {
        "invoice_item": None,
        "proration": False,
        "proration_details": {"credited_items": None},
        "subscription": sub["id"],
        "subscription_item": item["id"],
    }
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": price["currency"],
        "description": description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice["id"],
        "livemode": False,
        "metadata": dict(sub["metadata"]),
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": details,
            "type": "subscription_item_details",
        },
        "period": {"end": period[1], "start": period[0]},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        "quantity": quantity,
        "subtotal": amount,
        "taxes": [],
        "_tax_rates": list(item.get("_tax_rates") or []),
    }


def finalize(state: StripeState, invoice: Record, at: int) -> None:
    """Draft → open: number, URLs, due date; a zero-amount invoice is paid at once.

    Collecting the payment is :mod:`.collection`'s work, not this function's.
    """
    customer = state.customers.rows[invoice["customer"]]
    sequence = int(customer.get("next_invoice_sequence") or 1)
    customer["next_invoice_sequence"] = sequence + 1
    token = new_token(32)
    invoice["number"] = f"{customer.get('invoice_prefix') or 'SANDBOX'}-{sequence:04d}"
    invoice["status"] = "open"
    invoice["status_transitions"]["finalized_at"] = at
    invoice["effective_at"] = at
    invoice["automatically_finalizes_at"] = None
    invoice["hosted_invoice_url"] = f"https://invoice.stripe.com/i/{ACCOUNT}/test_{token}"
    invoice["invoice_pdf"] = f"https://pay.stripe.com/invoice/{ACCOUNT}/test_{token}/pdf"
    invoice["starting_balance"] = 0
    invoice["ending_balance"] = 0
    if invoice["collection_method"] == "send_invoice" and invoice["due_date"] is None:
        invoice["due_date"] = at + DAY * int(invoice["_days_until_due"] or 30)
    if invoice["due_date"] is not None:
        state.schedule(invoice["due_date"], invoice["test_clock"])
    for item_id in invoice["_items"]:
        item = state.invoiceitems.get(item_id)
        if item is not None:
            item["_frozen"] = True
    state.emit("invoice.finalized", invoice, at=at)
    if invoice["amount_due"] == 0:
        mark_paid(state, invoice, at)


def mark_paid(state: StripeState, invoice: Record, at: int, out_of_band: bool = False) -> None:
    """Open/uncollectible → paid: ``invoice.paid`` (and ``invoice.payment_succeeded``)."""
    invoice["status"] = "paid"
    invoice["amount_paid"] = invoice["amount_due"]
    invoice["amount_remaining"] = 0
    invoice["next_payment_attempt"] = None
    invoice["auto_advance"] = False
    invoice["status_transitions"]["paid_at"] = at
    if not out_of_band and invoice["amount_due"] > 0:
        invoice["attempted"] = True
    state.emit("invoice.paid", invoice, at=at)
    if not out_of_band:
        state.emit("invoice.payment_succeeded", invoice, at=at)
    sub = subscription_of(state, invoice)
    unpaid = ("incomplete", "past_due", "unpaid")
    settled = sub is not None and all(i["status"] != "open" for i in open_invoices(state, sub))
    if sub is not None and sub["status"] in unpaid and settled:
        set_status(state, sub, "active", at)


def void(state: StripeState, invoice: Record, at: int) -> None:
    """Open/uncollectible → void (terminal): ``invoice.voided``."""
    invoice["status"] = "void"
    invoice["status_transitions"]["voided_at"] = at
    invoice["next_payment_attempt"] = None
    invoice["auto_advance"] = False
    invoice["amount_remaining"] = 0
    state.emit("invoice.voided", invoice, at=at)


def mark_uncollectible(state: StripeState, invoice: Record, at: int) -> None:
    """Open → uncollectible: collection stops; it may still be paid or voided."""
    invoice["status"] = "uncollectible"
    invoice["status_transitions"]["marked_uncollectible_at"] = at
    invoice["next_payment_attempt"] = None
    invoice["auto_advance"] = False
    state.emit("invoice.marked_uncollectible", invoice, at=at)


def subscription_of(state: StripeState, invoice: Record) -> Record | None:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    sub_id = details.get("subscription")
    return state.subscriptions.get(sub_id) if sub_id else None


def open_invoices(state: StripeState, sub: Record) -> list[Record]:
    return [state.invoices.rows[i] for i in sub["_invoices"] if i in state.invoices.rows]


def set_status(state: StripeState, sub: Record, status: str, at: int) -> None:
    if sub["status"] == status:
        return
    before = state.before(sub)
    sub["status"] = status
    state.emit_update("customer.subscription.updated", sub, before, at=at)


def end_subscription(state: StripeState, sub: Record, at: int) -> None:
    """Cancel now: ``status=canceled`` and ``customer.subscription.deleted``."""
    sub["status"] = "canceled"
    sub["canceled_at"] = sub["canceled_at"] or at
    sub["ended_at"] = at
    for invoice in open_invoices(state, sub):
        if invoice["status"] == "open":  # automatic collection stops; drafts still finalize
            invoice["next_payment_attempt"] = None
    state.emit("customer.subscription.deleted", sub, at=at)


def after_failure(state: StripeState, invoice: Record, at: int, final: bool) -> None:
    """A failed payment makes an active subscription past due; the last one cancels it."""
    sub = subscription_of(state, invoice)
    if sub is None or sub["status"] in ("canceled", "incomplete_expired", "incomplete"):
        return
    set_status(state, sub, "past_due", at)
    if final:
        end_subscription(state, sub, at)
