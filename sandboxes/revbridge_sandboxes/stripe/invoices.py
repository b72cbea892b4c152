"""``/v1/invoices``: drafts, finalize, pay, attach_payment, void, send, mark uncollectible.

``POST /v1/invoices`` makes a draft; like the current API it leaves pending invoice
items alone unless ``pending_invoice_items_behavior=include`` (add items with
``invoice=in_…`` otherwise). ``auto_advance`` defaults to false for invoices made
through the API. ``default_tax_rates[]`` (on a draft) tax the lines that have no rates
of their own; lines are listed and updated in :mod:`.invoice_lines`. The status changes
and when money is collected are described in :mod:`.collection`. ``/pay`` charges the
payment method chosen by Stripe's priority (:mod:`.payment_methods`): a decline is a
402 ``card_error`` and leaves the invoice open with one more ``attempt_count``; with no
payment method at all it is a 400 and nothing changes. ``/attach_payment`` takes a
PaymentIntent of the invoice's customer and currency for at most ``amount_remaining``:
the invoice is paid in parts.

Lists (``GET /v1/invoices``) filter by ``customer``, ``subscription``, ``status``,
``collection_method``, ``due_date`` and ``created`` (``created[gte]=…``), newest first,
paged with ``limit``/``starting_after``/``ending_before``.
"""

from __future__ import annotations

from typing import Any

from revbridge_sandboxes.stripe import collection, invoice_payments, invoicing, search, tax_rates
from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, page, render, within
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import (
    ANY,
    Bool,
    Either,
    Enum,
    Int,
    Metadata,
    Str,
    apply_metadata,
    spec,
)
from revbridge_sandboxes.stripe.state import require_customer
from revbridge_sandboxes.stripe.tables import Record

COLLECTION = Enum("charge_automatically", "send_invoice")
STATUS = Enum("draft", "open", "paid", "uncollectible", "void")
_WRITABLE: dict[str, Any] = {
    "account_tax_ids": ANY,
    "application_fee_amount": ANY,
    "auto_advance": Bool(),
    "automatic_tax": ANY,
    "automatically_finalizes_at": Int(lo=0),
    "collection_method": COLLECTION,
    "custom_fields": ANY,
    "days_until_due": Int(lo=0, hi=1095),
    "default_payment_method": Str(),
    "default_source": Str(),
    "default_tax_rates": tax_rates.IDS,
    "description": Str(1500),
    "discounts": ANY,
    "due_date": Int(lo=0),
    "effective_at": Int(lo=0),
    "footer": Str(5000),
    "issuer": ANY,
    "metadata": Metadata(),
    "number": Str(26),
    "on_behalf_of": Str(),
    "payment_settings": ANY,
    "rendering": ANY,
    "shipping_cost": ANY,
    "shipping_details": ANY,
    "statement_descriptor": Str(22),
    "transfer_data": ANY,
}
CREATE = spec(
    {
        **_WRITABLE,
        "currency": Str(3),
        "customer": Str(),
        "customer_account": Str(),
        "from_invoice": ANY,
        "pending_invoice_items_behavior": Enum("exclude", "include"),
        "subscription": Str(),
    },
    required=("customer",),
)
UPDATE = spec(_WRITABLE)
FINALIZE = spec({"auto_advance": Bool()})
PAY = spec(
    {
        "forgive": Bool(),
        "mandate": Str(),
        "off_session": Bool(),
        "paid_out_of_band": Bool(),
        "payment_method": Str(),
        "source": Str(),
    }
)
ATTACH = spec({"payment_intent": Str(), "payment_record": Str()})
LIST = spec(
    {
        "collection_method": COLLECTION,
        "customer": Str(),
        "customer_account": Str(),
        "due_date": Either(),
        "status": STATUS,
        "subscription": Str(),
    },
    listing=True,
)
SIMPLE = ("description", "footer", "statement_descriptor", "default_payment_method", "number")


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    customer = require_customer(state, params["customer"])
    collection = params.get("collection_method") or "charge_automatically"
    undated = params.get("days_until_due") is None and params.get("due_date") is None
    if collection == "send_invoice" and undated:
        raise StripeError.invalid(
            "Invoices with `collection_method=send_invoice` must have either "
            "`days_until_due` or `due_date` set.",
            param="days_until_due",
        )
    sub = None
    if params.get("subscription"):
        sub = state.subscriptions.require(params["subscription"], "subscription")
    defaults = tax_rates.applicable(state, params.get("default_tax_rates"), "default_tax_rates")
    currency = str(params.get("currency") or customer.get("currency") or "usd").lower()
    at = state.now(customer.get("test_clock"))
    auto_advance = bool(params.get("auto_advance"))
    invoice = invoicing.new_invoice(
        state,
        customer,
        at,
        currency=currency,
        subscription=sub,
        collection_method=collection,
        days_until_due=params.get("days_until_due"),
        auto_advance=auto_advance,
        fields={k: params[k] for k in (*SIMPLE, "due_date") if params.get(k) is not None},
    )
    if auto_advance and params.get("automatically_finalizes_at"):
        invoice["automatically_finalizes_at"] = params["automatically_finalizes_at"]
    apply_metadata(invoice, params)
    if "default_tax_rates" in params:
        invoice["_default_tax_rates"] = defaults
    if params.get("pending_invoice_items_behavior") == "include":
        for item in list(state.invoiceitems.rows.values()):
            owner = ((item.get("parent") or {}).get("subscription_details") or {}).get(
                "subscription"
            )
            wanted = sub is None or owner == sub["id"]
            mine = item["customer"] == customer["id"] and item["invoice"] is None
            if mine and wanted and item["currency"] == currency:
                invoicing.attach_item(state, invoice, item)
    if sub is not None:
        sub["_invoices"].append(invoice["id"])
    if customer.get("currency") is None:
        customer["currency"] = currency
    invoicing.open_draft(state, invoice, at)
    return render(call, invoice)


def retrieve(call: Call) -> dict[str, Any]:
    return _render(call, call.state.invoices.require(call.arg("id")))


def update(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    invoice = state.invoices.require(call.arg("id"))
    always = {"metadata", "auto_advance", "description", "footer", "expand"}
    if invoice["status"] != "draft" and set(params) - always:
        field = sorted(set(params) - always)[0]
        raise StripeError.state(
            f"You can only update `{field}` on a draft invoice.",
            param=field,
            code="invoice_not_editable",
        )
    if invoice["status"] in ("paid", "void") and "auto_advance" in params:
        raise StripeError.state(
            "You cannot change auto_advance on a paid or void invoice.", param="auto_advance"
        )
    defaults = None
    if "default_tax_rates" in params:
        defaults = tax_rates.applicable(state, params["default_tax_rates"], "default_tax_rates")
    before = state.before(invoice)
    if defaults is not None:
        invoice["_default_tax_rates"] = defaults
        invoicing.refresh(state, invoice)
    for key in (*SIMPLE, "collection_method", "due_date", "auto_advance"):
        if key in params:
            invoice[key] = params[key]
    if "days_until_due" in params:
        invoice["_days_until_due"] = params["days_until_due"]
    at = state.now(invoice["test_clock"])
    if invoice["status"] == "draft":
        finalizes = invoice["created"] + invoicing.FINALIZE_DELAY_S
        invoice["automatically_finalizes_at"] = finalizes if invoice["auto_advance"] else None
        if invoice["auto_advance"]:
            state.schedule(max(finalizes, at), invoice["test_clock"])
    apply_metadata(invoice, params)
    state.emit_update("invoice.updated", invoice, before, at=at)
    return render(call, invoice)


def delete(call: Call) -> dict[str, Any]:
    state = call.state
    invoice = state.invoices.require(call.arg("id"))
    if invoice["status"] != "draft":
        raise StripeError.state("You can only delete draft invoices.", code="invoice_not_editable")
    for item_id in invoice["_items"]:
        item = state.invoiceitems.get(item_id)
        if item is not None:
            item["invoice"] = None
    state.emit("invoice.deleted", invoice)
    state.invoices.remove(invoice["id"])
    return {"id": invoice["id"], "object": "invoice", "deleted": True}


def finalize(call: Call) -> dict[str, Any]:
    state = call.state
    invoice = state.invoices.require(call.arg("id"))
    if invoice["status"] != "draft":
        raise StripeError.state(
            "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
            code="invoice_not_editable",
        )
    if "auto_advance" in call.params:
        invoice["auto_advance"] = bool(call.params["auto_advance"])
    at = state.now(invoice["test_clock"])
    collection.finalize(state, invoice, at)
    collection.schedule_collection(state, invoice, at)
    return _render(call, invoice)


def pay(call: Call) -> dict[str, Any]:
    """Charge (or record as paid out of band) a draft, open or uncollectible invoice.

    A draft is finalized first, as Stripe does before attempting payment.
    """
    state, params = call.state, call.params
    invoice = state.invoices.require(call.arg("id"))
    if invoice["status"] == "paid":
        raise StripeError.state("Invoice is already paid", code="invoice_already_paid")
    if invoice["status"] == "void":
        raise StripeError.state("You cannot pay a void invoice.", code="invoice_not_editable")
    at = state.now(invoice["test_clock"])
    out_of_band = bool(params.get("paid_out_of_band"))
    method = params.get("payment_method") or params.get("source")
    if not out_of_band and invoice["amount_due"] > 0:
        collection.require_payment_method(collection.outcome(state, invoice, method))
    if invoice["status"] == "draft":
        collection.finalize(state, invoice, at)
        if invoice["status"] == "paid":
            return _render(call, invoice)
    if out_of_band:
        collection.pay_out_of_band(state, invoice, at)
        return _render(call, invoice)
    result = collection.attempt(state, invoice, at, method)
    if result.failure is not None:
        raise StripeError.card_declined(result.failure)
    return _render(call, invoice)


def attach_payment(call: Call) -> dict[str, Any]:
    """Attach a PaymentIntent: a succeeded one pays (part of) the invoice at once."""
    state, params = call.state, call.params
    invoice = state.invoices.require(call.arg("id"))
    if not params.get("payment_intent"):
        raise StripeError.missing("payment_intent")
    intent = state.payment_intents.require(params["payment_intent"], "payment_intent")
    if invoice["status"] not in ("open", "uncollectible"):
        raise StripeError.state(
            f"You can only attach payments to open invoices; this one is {invoice['status']}.",
            code="invoice_not_editable",
        )
    if intent.get("_invoice") is not None:
        raise StripeError.state(
            "This PaymentIntent is already attached to an invoice.",
            param="payment_intent",
            code="payment_intent_unexpected_state",
        )
    if intent["customer"] != invoice["customer"] or intent["currency"] != invoice["currency"]:
        raise StripeError.invalid(
            "The PaymentIntent must have the same customer and currency as the invoice.",
            param="payment_intent",
        )
    if intent["amount"] > invoice["amount_remaining"]:
        raise StripeError.invalid(
            f"The PaymentIntent's amount ({intent['amount']}) is more than the invoice's "
            f"amount_remaining ({invoice['amount_remaining']}).",
            param="payment_intent",
        )
    collection.attach(state, invoice, intent, state.now(invoice["test_clock"]))
    return _render(call, invoice)


def void(call: Call) -> dict[str, Any]:
    state = call.state
    invoice = state.invoices.require(call.arg("id"))
    if invoice["status"] not in ("open", "uncollectible"):
        raise StripeError.state(
            f"You can only void open or uncollectible invoices; this one is {invoice['status']}.",
            code="invoice_not_editable",
        )
    collection.void(state, invoice, state.now(invoice["test_clock"]))
    return _render(call, invoice)


def mark_uncollectible(call: Call) -> dict[str, Any]:
    state = call.state
    invoice = state.invoices.require(call.arg("id"))
    if invoice["status"] != "open":
        raise StripeError.state(
            "You can only mark open invoices as uncollectible.", code="invoice_not_editable"
        )
    invoicing.mark_uncollectible(state, invoice, state.now(invoice["test_clock"]))
    return _render(call, invoice)


def send(call: Call) -> dict[str, Any]:
    state = call.state
    invoice = state.invoices.require(call.arg("id"))
    at = state.now(invoice["test_clock"])
    if invoice["status"] == "void":
        raise StripeError.state("You cannot send a void invoice.", code="invoice_not_editable")
    if invoice["status"] == "draft":
        collection.finalize(state, invoice, at)
    state.emit("invoice.sent", invoice, at=at)
    return _render(call, invoice)


def listing(call: Call) -> dict[str, Any]:
    params = call.params
    simple = {k: params[k] for k in ("collection_method", "customer", "status") if k in params}
    sub_id = params.get("subscription")
    due = params.get("due_date")

    def match(invoice: Record) -> bool:
        if any(invoice.get(k) != v for k, v in simple.items()):
            return False
        if sub_id is not None and _subscription_id(invoice) != sub_id:
            return False
        return due is None or (invoice["due_date"] is not None and within(due)(invoice["due_date"]))

    return page(call, call.state.invoices, "/v1/invoices", match)


def searching(call: Call) -> dict[str, Any]:
    fields = {"subscription": _subscription_id}
    return search.run(call, call.state.invoices, "/v1/invoices/search", fields)


def _render(call: Call, invoice: Record) -> dict[str, Any]:
    """The invoice; its ``payments`` list only when asked (``expand[]=payments``)."""
    body = render(call, invoice)
    if "payments" in call.expand:
        body["payments"] = invoice_payments.embedded(call.state, invoice)
    return body


def _subscription_id(invoice: Record) -> str | None:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return details.get("subscription")


ROUTES: Routes = {
    "/v1/invoices": {"POST": Endpoint(CREATE, create), "GET": Endpoint(LIST, listing)},
    "/v1/invoices/search": {"GET": Endpoint(search.SPEC, searching)},
    "/v1/invoices/{id}": {
        "GET": Endpoint(spec({}), retrieve),
        "POST": Endpoint(UPDATE, update),
        "DELETE": Endpoint(spec({}), delete),
    },
    "/v1/invoices/{id}/finalize": {"POST": Endpoint(FINALIZE, finalize)},
    "/v1/invoices/{id}/pay": {"POST": Endpoint(PAY, pay)},
    "/v1/invoices/{id}/attach_payment": {"POST": Endpoint(ATTACH, attach_payment)},
    "/v1/invoices/{id}/void": {"POST": Endpoint(spec({}), void)},
    "/v1/invoices/{id}/mark_uncollectible": {"POST": Endpoint(spec({}), mark_uncollectible)},
    "/v1/invoices/{id}/send": {"POST": Endpoint(spec({}), send)},
}
