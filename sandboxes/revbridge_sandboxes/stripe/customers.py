"""``/v1/customers``: create, retrieve, update, delete, list and search customers."""

from __future__ import annotations

import string
from typing import Any

from revbridge_sandboxes.stripe import billing, payment_methods, search
from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, page, render
from revbridge_sandboxes.stripe.params import (
    ADDRESS,
    ANY,
    Arr,
    Bool,
    Enum,
    Int,
    Metadata,
    Obj,
    Str,
    address,
    apply_metadata,
    assign,
    spec,
)
from revbridge_sandboxes.stripe.state import StripeState, require_customer
from revbridge_sandboxes.stripe.tables import Record, new_id, new_token

INVOICE_SETTINGS = Obj(
    {
        "custom_fields": ANY,
        "default_payment_method": Str(),
        "footer": Str(),
        "rendering_options": ANY,
    }
)
_WRITABLE: dict[str, Any] = {
    "address": ADDRESS,
    "balance": Int(),
    "business_name": Str(150),
    "cash_balance": ANY,
    "description": Str(),
    "email": Str(512),
    "individual_name": Str(150),
    "invoice_prefix": Str(12),
    "invoice_settings": INVOICE_SETTINGS,
    "metadata": Metadata(),
    "name": Str(256),
    "next_invoice_sequence": Int(lo=1),
    "phone": Str(20),
    "preferred_locales": Arr(Str()),
    "shipping": ANY,
    "source": ANY,
    "tax": ANY,
    "tax_exempt": Enum("none", "exempt", "reverse"),
    "validate": Bool(),
}
CREATE = spec({**_WRITABLE, "payment_method": Str(), "tax_id_data": ANY, "test_clock": Str()})
UPDATE = spec({**_WRITABLE, "default_source": Str()})
LIST = spec({"email": Str(512), "test_clock": Str()}, listing=True)
SIMPLE_FIELDS = (
    "balance",
    "business_name",
    "description",
    "email",
    "individual_name",
    "name",
    "phone",
    "preferred_locales",
    "shipping",
)


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    clock_id = params.get("test_clock")
    if clock_id is not None:
        state.test_clocks.require(clock_id, "test_clock")
    settings = {"custom_fields": None, "default_payment_method": None, "footer": None}
    settings["rendering_options"] = None
    customer: dict[str, Any] = {
        "id": new_id("cus"),
        "object": "customer",
        "address": address(None, params.get("address")),
        "balance": params.get("balance") or 0,
        "business_name": None,
        "created": state.now(clock_id),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "individual_name": None,
        "invoice_prefix": params.get("invoice_prefix") or _prefix(),
        "invoice_settings": {**settings, **(params.get("invoice_settings") or {})},
        "livemode": False,
        "metadata": {},
        "name": None,
        "next_invoice_sequence": params.get("next_invoice_sequence") or 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": params.get("tax_exempt") or "none",
        "test_clock": clock_id,
    }
    assign(customer, params, SIMPLE_FIELDS)
    apply_metadata(customer, params)
    state.customers.add(customer)
    state.emit("customer.created", customer)
    _attach_methods(state, customer, params)
    return render(call, customer)


def retrieve(call: Call) -> dict[str, Any]:
    customer = call.state.customers.require(call.arg("id"))
    return render(call, customer)


def update(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    customer = require_customer(state, call.arg("id"), "id")
    before = state.before(customer)
    assign(customer, params, (*SIMPLE_FIELDS, "invoice_prefix", "next_invoice_sequence"))
    if "address" in params:
        customer["address"] = address(customer["address"], params["address"])
    if "tax_exempt" in params:
        customer["tax_exempt"] = params["tax_exempt"] or "none"
    if params.get("invoice_settings"):
        customer["invoice_settings"] = {
            **customer["invoice_settings"],
            **params["invoice_settings"],
        }
    apply_metadata(customer, params)
    _attach_methods(state, customer, params)
    state.emit_update("customer.updated", customer, before)
    return render(call, customer)


def delete(call: Call) -> dict[str, Any]:
    state = call.state
    customer = require_customer(state, call.arg("id"), "id")
    for sub in list(state.subscriptions.rows.values()):
        if sub["customer"] == customer["id"] and sub["status"] not in billing.ENDED:
            billing.cancel(state, sub, state.now(customer.get("test_clock")))
    state.emit("customer.deleted", customer)
    stub = {"id": customer["id"], "object": "customer", "deleted": True}
    customer.clear()
    customer.update(stub)
    return dict(stub)


def listing(call: Call) -> dict[str, Any]:
    email, clock = call.params.get("email"), call.params.get("test_clock")

    def match(c: dict[str, Any]) -> bool:
        return (email is None or c["email"] == email) and (
            clock is None or c["test_clock"] == clock
        )

    keep = match if email is not None or clock is not None else None
    return page(call, call.state.customers, "/v1/customers", keep)


def searching(call: Call) -> dict[str, Any]:
    return search.run(call, call.state.customers, "/v1/customers/search")


def _attach_methods(state: StripeState, customer: Record, params: dict[str, Any]) -> None:
    """``payment_method=`` attaches a card; ``source=tok_…`` also makes it the default source.

    A default payment method named by the same test id as ``payment_method`` (Stripe's
    ``payment_method=pm_card_visa&invoice_settings[default_payment_method]=pm_card_visa``)
    becomes the attached card.
    """
    at = state.now(customer.get("test_clock"))
    token = params.get("payment_method")
    if isinstance(token, str) and token:
        attached = payment_methods.attach(state, token, customer, at)
        settings = customer["invoice_settings"]
        if settings.get("default_payment_method") == token:
            settings["default_payment_method"] = attached["id"]
    source = params.get("source")
    if isinstance(source, str) and source:
        card = payment_methods.attach(state, source, customer, at, prefix="card")
        customer["default_source"] = card["id"]


def _prefix() -> str:
    return "".join(c for c in new_token(40).upper() if c in string.ascii_uppercase + "0123456789")[
        :8
    ]


ROUTES: Routes = {
    "/v1/customers": {"POST": Endpoint(CREATE, create), "GET": Endpoint(LIST, listing)},
    "/v1/customers/search": {"GET": Endpoint(search.SPEC, searching)},
    "/v1/customers/{id}": {
        "GET": Endpoint(spec({}), retrieve),
        "POST": Endpoint(UPDATE, update),
        "DELETE": Endpoint(spec({}), delete),
    },
}
