"""``/v1/payment_methods``: Stripe's test cards, attached to customers, and which one pays.

Stripe's test payment methods are accepted wherever a payment method id is:
``pm_card_visa``, ``pm_card_mastercard``, ``pm_card_amex`` (and their ``tok_…``
twins) succeed; ``pm_card_chargeDeclined``, ``pm_card_chargeDeclinedInsufficientFunds``,
``pm_card_chargeDeclinedExpiredCard``, ``pm_card_chargeDeclinedLostCard`` … decline.
Attaching one to a customer (``POST /v1/payment_methods/{id}/attach``, or
``payment_method=`` / ``source=`` when creating the customer) stores a card of its own
id (``pm_1…``, ``card_1…`` for a source) that behaves like the test method it came from.
An id the sandbox does not know is treated as a good card unless its name says
``chargeDeclined``.

Which method an invoice charges follows Stripe's payment method priority: the one
given to ``/pay``, the invoice's ``default_payment_method``, the subscription's, the
customer's ``invoice_settings.default_payment_method``, then the customer's
``default_source``. A card merely attached to the customer is not charged.
"""

from __future__ import annotations

from typing import Any

from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, render
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import Str, spec
from revbridge_sandboxes.stripe.state import StripeState, require_customer
from revbridge_sandboxes.stripe.tables import Record, new_id

#: test method → (brand, last4, decline code or None)
TEST_CARDS: dict[str, tuple[str, str, str | None]] = {
    "visa": ("visa", "4242", None),
    "visa_debit": ("visa", "5556", None),
    "mastercard": ("mastercard", "4444", None),
    "amex": ("amex", "8431", None),
    "chargeDeclined": ("visa", "0002", "generic_decline"),
    "chargeDeclinedInsufficientFunds": ("visa", "9995", "insufficient_funds"),
    "chargeDeclinedLostCard": ("visa", "9987", "lost_card"),
    "chargeDeclinedStolenCard": ("visa", "9979", "stolen_card"),
    "chargeDeclinedExpiredCard": ("visa", "0069", "expired_card"),
    "chargeDeclinedIncorrectCvc": ("visa", "0127", "incorrect_cvc"),
    "chargeDeclinedProcessingError": ("visa", "0119", "processing_error"),
}
ATTACH = spec({"customer": Str(), "customer_account": Str()}, required=("customer",))


def test_card(token: str) -> str | None:
    """``pm_card_visa`` / ``tok_visa`` → ``visa``; None for anything else."""
    for prefix in ("pm_card_", "tok_"):
        if token.startswith(prefix) and token[len(prefix) :] in TEST_CARDS:
            return token[len(prefix) :]
    return None


def decline_code(state: StripeState, method: str) -> str | None:
    """The decline code charging ``method`` gets, or None when the charge succeeds."""
    record = state.payment_methods.get(method)
    card = record["_test_card"] if record is not None else test_card(method)
    if card is not None:
        return TEST_CARDS[card][2]
    if "chargeDeclined" in method:
        return "insufficient_funds" if "InsufficientFunds" in method else "generic_decline"
    return None


def attach(
    state: StripeState, method: str, customer: Record, at: int, prefix: str = "pm"
) -> Record:
    """Attach ``method`` (a test method, or a stored one) to ``customer``."""
    record = state.payment_methods.get(method)
    if record is None:
        card = test_card(method)
        if card is None:
            raise StripeError.no_such("PaymentMethod", method, "payment_method")
        record = _card(card, at, prefix)
        state.payment_methods.add(record)
    elif record["customer"] not in (None, customer["id"]):
        raise StripeError.state(
            "The payment method you provided has already been attached to a customer.",
            code="payment_method_unexpected_state",
        )
    if record["customer"] is None:
        record["customer"] = customer["id"]
        state.emit("payment_method.attached", record, at=at)
    return record


def chosen(
    state: StripeState, invoice: Record, sub: Record | None, explicit: str | None = None
) -> str | None:
    """The payment method a charge for ``invoice`` uses, by Stripe's priority; None if none."""
    customer = state.customers.rows.get(invoice["customer"]) or {}
    candidates = (
        explicit,
        invoice.get("default_payment_method"),
        (sub or {}).get("default_payment_method"),
        (customer.get("invoice_settings") or {}).get("default_payment_method"),
        customer.get("default_source"),
    )
    return next((m for m in candidates if m), None)


def _card(card: str, at: int, prefix: str) -> Record:
    brand, last4, _ = TEST_CARDS[card]
    return {
        "id": new_id(prefix),
        "object": "payment_method" if prefix == "pm" else "card",
        "allow_redisplay": "unspecified",
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "card": {
            "brand": brand,
            "country": "US",
            "exp_month": 12,
            "exp_year": 2034,
            "funding": "debit" if card == "visa_debit" else "credit",
            "last4": last4,
        },
        "created": at,
        "customer": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
        "_test_card": card,
    }


def retrieve(call: Call) -> dict[str, Any]:
    return render(call, call.state.payment_methods.require(call.arg("id")))


def attaching(call: Call) -> dict[str, Any]:
    state = call.state
    customer = require_customer(state, call.params["customer"])
    at = state.now(customer.get("test_clock"))
    return render(call, attach(state, call.arg("id"), customer, at))


def detaching(call: Call) -> dict[str, Any]:
    state = call.state
    record = state.payment_methods.require(call.arg("id"))
    if record["customer"] is None:
        raise StripeError.state(
            "The payment method you provided is not attached to a customer so detachment is "
            "impossible.",
            code="payment_method_unexpected_state",
        )
    record["customer"] = None
    state.emit("payment_method.detached", record)
    return render(call, record)


ROUTES: Routes = {
    "/v1/payment_methods/{id}": {"GET": Endpoint(spec({}), retrieve)},
    "/v1/payment_methods/{id}/attach": {"POST": Endpoint(ATTACH, attaching)},
    "/v1/payment_methods/{id}/detach": {"POST": Endpoint(spec({}), detaching)},
}
