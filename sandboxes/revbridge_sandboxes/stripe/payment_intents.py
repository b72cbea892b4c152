"""``/v1/payment_intents``: the minimum needed to pay an invoice in parts.

``POST /v1/payment_intents`` (``amount``, ``currency``, ``customer``,
``payment_method``, ``confirm``) and ``POST /v1/payment_intents/{id}/confirm`` charge the
test payment method at once: ``succeeded``, or a 402 ``card_declined`` that leaves the
intent ``requires_payment_method`` with its ``last_payment_error``. A succeeded intent
can be attached to an open invoice (``POST /v1/invoices/{id}/attach_payment``). An
intent attached to an invoice that is confirmed later credits the invoice then.

Each finalized invoice also has a default intent (the one behind its default
InvoicePayment); it is charged by ``/pay`` and automatic collection, never directly.
No ``payment_intent.*`` or ``charge.*`` events are sent.
"""

from __future__ import annotations

from typing import Any

from revbridge_sandboxes.stripe import collection, payment_methods
from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, render
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import ANY, Bool, Int, Metadata, Str, apply_metadata, spec
from revbridge_sandboxes.stripe.state import StripeState, require_customer
from revbridge_sandboxes.stripe.tables import Record, new_id, new_token

CREATE = spec(
    {
        "amount": Int(lo=1),
        "automatic_payment_methods": ANY,
        "confirm": Bool(),
        "currency": Str(3),
        "customer": Str(),
        "description": Str(1000),
        "metadata": Metadata(),
        "off_session": Bool(),
        "payment_method": Str(),
        "payment_method_types": ANY,
        "receipt_email": Str(),
        "statement_descriptor": Str(22),
    },
    required=("amount", "currency"),
)
CONFIRM = spec({"off_session": Bool(), "payment_method": Str()})
MISSING_METHOD = (
    "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm "
    "the PaymentIntent with {customer}, specify a payment method attached to this customer "
    "along with the customer ID."
)


def new_intent(
    state: StripeState, amount: int, currency: str, customer: str | None, at: int, **fields: Any
) -> Record:
    intent: Record = {
        "id": new_id("pi"),
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": 0,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": None,
        "confirmation_method": "automatic",
        "created": at,
        "currency": currency,
        "customer": customer,
        "description": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": {},
        "next_action": None,
        "payment_method": None,
        "payment_method_types": ["card"],
        "receipt_email": None,
        "statement_descriptor": None,
        "status": "requires_payment_method",
        "_invoice": None,
    }
    intent["client_secret"] = f"{intent['id']}_secret_{new_token(25)}"
    intent.update(fields)
    state.payment_intents.add(intent)
    return intent


def charge(intent: Record, method: str | None, code: str | None) -> None:
    """Record one charge of ``intent`` with ``method``: succeeded, or declined with ``code``."""
    intent["payment_method"] = method
    if code is None:
        intent["status"] = "succeeded"
        intent["amount_received"] = intent["amount"]
        intent["last_payment_error"] = None
        intent["latest_charge"] = new_id("ch")
        return
    intent["status"] = "requires_payment_method"
    error = StripeError.card_declined(code)
    intent["last_payment_error"] = {
        "code": error.code,
        "decline_code": code,
        "message": error.message,
        "type": error.type,
    }


def cancel(intent: Record, at: int, reason: str) -> None:
    if intent["status"] not in ("succeeded", "canceled"):
        intent["status"] = "canceled"
        intent["canceled_at"] = at
        intent["cancellation_reason"] = reason


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    customer = require_customer(state, params["customer"]) if params.get("customer") else None
    at = state.now((customer or {}).get("test_clock"))
    fields = {k: params[k] for k in ("description", "receipt_email") if params.get(k)}
    intent = new_intent(
        state,
        params["amount"],
        str(params["currency"]).lower(),
        customer["id"] if customer else None,
        at,
        **fields,
    )
    apply_metadata(intent, params)
    if params.get("payment_method"):
        intent["payment_method"] = params["payment_method"]
        intent["status"] = "requires_confirmation"
    if params.get("confirm"):
        _confirm(state, intent, at)
    return render(call, intent)


def retrieve(call: Call) -> dict[str, Any]:
    return render(call, call.state.payment_intents.require(call.arg("id")))


def confirm(call: Call) -> dict[str, Any]:
    state = call.state
    intent = state.payment_intents.require(call.arg("id"))
    if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise StripeError.state(
            "This PaymentIntent's payment_method could not be updated because it has a status "
            f"of {intent['status']}. You may only update the payment_method of a PaymentIntent "
            "with one of the following statuses: requires_payment_method, requires_confirmation, "
            "requires_action.",
            code="payment_intent_unexpected_state",
        )
    if call.params.get("payment_method"):
        intent["payment_method"] = call.params["payment_method"]
    customer = state.customers.get(intent["customer"] or "") or {}
    _confirm(state, intent, state.now(customer.get("test_clock")))
    return render(call, intent)


def _confirm(state: StripeState, intent: Record, at: int) -> None:
    method = intent["payment_method"]
    if not method:
        who = intent["customer"] or "no customer"
        raise StripeError.state(
            MISSING_METHOD.format(customer=who),
            code="payment_intent_unexpected_state",
        )
    code = payment_methods.decline_code(state, method)
    charge(intent, method, code)
    if code is not None:
        raise StripeError.card_declined(code)
    collection.credit_intent(state, intent, at)


ROUTES: Routes = {
    "/v1/payment_intents": {"POST": Endpoint(CREATE, create)},
    "/v1/payment_intents/{id}": {"GET": Endpoint(spec({}), retrieve)},
    "/v1/payment_intents/{id}/confirm": {"POST": Endpoint(CONFIRM, confirm)},
}
