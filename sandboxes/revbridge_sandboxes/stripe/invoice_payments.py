"""``/v1/invoice_payments``: the payments made, or expected, against invoices.

As Stripe documents for current API versions: finalizing an invoice with an amount
due creates its default InvoicePayment (``is_default=true``, ``status=open``,
``amount_paid=null``) backed by a PaymentIntent, kept equal to the invoice's
``amount_remaining``. A successful ``/pay`` or automatic collection makes it ``paid``
(``amount_paid``, ``status_transitions.paid_at``, event ``invoice_payment.paid``).
Voiding the invoice cancels it (``canceled``, ``status_transitions.canceled_at``).
``paid_out_of_band`` moves no money through Stripe: the sandbox then cancels the
default payment and records no paid InvoicePayment (the docs do not say more).
A PaymentIntent attached with ``POST /v1/invoices/{id}/attach_payment`` adds a payment
with ``is_default=false``, paid once its intent has succeeded.

``GET /v1/invoice_payments`` lists them newest first, filtered by ``invoice``,
``status``, ``payment[type]``, ``payment[payment_intent]`` and ``created``;
``GET /v1/invoice_payments/{id}`` reads one.
"""

from __future__ import annotations

from typing import Any

from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, page, render
from revbridge_sandboxes.stripe.params import Enum, Obj, Str, spec
from revbridge_sandboxes.stripe.state import StripeState
from revbridge_sandboxes.stripe.tables import Record, new_id
from revbridge_sandboxes.stripe.views import list_object, public

LIST = spec(
    {
        "invoice": Str(),
        "payment": Obj({"payment_intent": Str(), "payment_record": Str(), "type": Str()}),
        "status": Enum("canceled", "open", "paid"),
    },
    listing=True,
)


def new_payment(
    state: StripeState, invoice: Record, intent: Record, at: int, is_default: bool
) -> Record:
    payment: Record = {
        "id": new_id("inpay"),
        "object": "invoice_payment",
        "amount_paid": None,
        "amount_requested": intent["amount"],
        "created": at,
        "currency": intent["currency"],
        "invoice": invoice["id"],
        "is_default": is_default,
        "livemode": False,
        "payment": {"payment_intent": intent["id"], "type": "payment_intent"},
        "status": "open",
        "status_transitions": {"canceled_at": None, "paid_at": None},
    }
    state.invoice_payments.add(payment)
    invoice.setdefault("_payments", []).append(payment["id"])
    intent["_invoice"] = invoice["id"]
    return payment


def of_invoice(state: StripeState, invoice: Record) -> list[Record]:
    """The invoice's payments, oldest first."""
    return [state.invoice_payments.rows[p] for p in invoice.get("_payments") or []]


def default_of(state: StripeState, invoice: Record) -> Record | None:
    return next((p for p in of_invoice(state, invoice) if p["is_default"]), None)


def of_intent(state: StripeState, intent: Record) -> Record | None:
    invoice = state.invoices.get(intent.get("_invoice") or "")
    if invoice is None:
        return None
    return next(
        (p for p in of_invoice(state, invoice) if p["payment"]["payment_intent"] == intent["id"]),
        None,
    )


def mark_paid(state: StripeState, payment: Record, amount: int, at: int) -> None:
    payment["status"] = "paid"
    payment["amount_paid"] = amount
    payment["status_transitions"]["paid_at"] = at
    state.emit("invoice_payment.paid", payment, at=at)


def cancel(payment: Record, at: int) -> None:
    if payment["status"] == "open":
        payment["status"] = "canceled"
        payment["status_transitions"]["canceled_at"] = at


def embedded(state: StripeState, invoice: Record) -> dict[str, Any]:
    """The invoice's ``payments`` list, shown when asked with ``expand[]=payments``."""
    rows = [public(p) for p in reversed(of_invoice(state, invoice))]
    return list_object(rows[:10], f"/v1/invoice_payments?invoice={invoice['id']}", len(rows) > 10)


def retrieve(call: Call) -> dict[str, Any]:
    return render(call, call.state.invoice_payments.require(call.arg("id")))


def listing(call: Call) -> dict[str, Any]:
    params = call.params
    invoice, status = params.get("invoice"), params.get("status")
    wanted = params.get("payment") or {}

    def match(payment: Record) -> bool:
        if invoice is not None and payment["invoice"] != invoice:
            return False
        if status is not None and payment["status"] != status:
            return False
        return all(payment["payment"].get(k) == v for k, v in wanted.items())

    return page(call, call.state.invoice_payments, "/v1/invoice_payments", match)


ROUTES: Routes = {
    "/v1/invoice_payments": {"GET": Endpoint(LIST, listing)},
    "/v1/invoice_payments/{id}": {"GET": Endpoint(spec({}), retrieve)},
}
