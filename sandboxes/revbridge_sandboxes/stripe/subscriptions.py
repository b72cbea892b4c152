"""``/v1/subscriptions``: create (with the first invoice), update, cancel, list, search.

Creating a subscription bills the licensed items for the first period at once
(metered items appear at zero: usage is billed in arrears) together with any
``add_invoice_items`` and the customer's pending invoice items; the invoice is
finalized immediately and, for ``charge_automatically``, paid — or declined, which
leaves the subscription ``incomplete`` (``payment_behavior=error_if_incomplete``
answers 402 and creates nothing). A customer with no payment method to charge (see
:mod:`.payment_methods`) gets Stripe's 400 and nothing is created, unless
``payment_behavior=default_incomplete`` (then the subscription is ``incomplete`` with an
open invoice, not yet charged). Period dates live on the items
(``items.data[].current_period_start/end``), as in the current API. Changing items
or quantities does not generate prorations (``proration_behavior`` is accepted).
``default_tax_rates[]`` (create or update) is copied to the invoices the subscription
creates from then on, where it taxes the lines of items without ``items[i][tax_rates]``;
the first invoice's tax is part of what the creation charges.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from revbridge_sandboxes.stripe import (
    billing,
    collection,
    invoicing,
    search,
    subscription_items,
    tax_rates,
)
from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, page, render
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.invoice_items import new_item
from revbridge_sandboxes.stripe.params import (
    ANY,
    Arr,
    Bool,
    Enum,
    Int,
    Metadata,
    Obj,
    Str,
    Timestamp,
    apply_metadata,
    assign,
    spec,
)
from revbridge_sandboxes.stripe.prices import amount_for
from revbridge_sandboxes.stripe.state import StripeState, require_customer
from revbridge_sandboxes.stripe.subscription_items import ITEM, ITEM_UPDATE
from revbridge_sandboxes.stripe.tables import Record, new_id

COLLECTION = Enum("charge_automatically", "send_invoice")
PAYMENT_BEHAVIOR = Enum(
    "allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete"
)
PRORATION = Enum("always_invoice", "create_prorations", "none")
ADD_INVOICE_ITEM = Obj(
    {
        "discounts": ANY,
        "metadata": Metadata(),
        "period": ANY,
        "price": Str(),
        "price_data": ANY,
        "quantity": Int(lo=1),
        "tax_rates": tax_rates.IDS,
    }
)
_COMMON: dict[str, Any] = {
    "add_invoice_items": Arr(ADD_INVOICE_ITEM, max_items=20),
    "application_fee_percent": ANY,
    "automatic_tax": ANY,
    "billing_schedules": ANY,
    "billing_thresholds": ANY,
    "cancel_at": ANY,
    "cancel_at_period_end": Bool(),
    "collection_method": COLLECTION,
    "days_until_due": Int(lo=0, hi=1095),
    "default_payment_method": Str(),
    "default_source": Str(),
    "default_tax_rates": tax_rates.IDS,
    "description": Str(500),
    "discounts": ANY,
    "invoice_settings": ANY,
    "metadata": Metadata(),
    "off_session": Bool(),
    "on_behalf_of": Str(),
    "payment_behavior": PAYMENT_BEHAVIOR,
    "payment_settings": ANY,
    "pending_invoice_item_interval": ANY,
    "proration_behavior": PRORATION,
    "transfer_data": ANY,
    "trial_end": Timestamp(allow_now=True),
    "trial_from_plan": Bool(),
    "trial_settings": ANY,
}
CREATE = spec(
    {
        **_COMMON,
        "backdate_start_date": Int(lo=0),
        "billing_cycle_anchor": Int(lo=0),
        "billing_cycle_anchor_config": ANY,
        "billing_mode": ANY,
        "currency": Str(3),
        "customer": Str(),
        "customer_account": Str(),
        "items": Arr(ITEM, max_items=20),
        "trial_period_days": Int(lo=0, hi=730),
    },
    required=("customer",),
)
UPDATE = spec(
    {
        **_COMMON,
        "billing_cycle_anchor": Enum("now", "unchanged"),
        "cancellation_details": ANY,
        "items": Arr(ITEM_UPDATE, max_items=20),
        "pause_collection": ANY,
        "proration_date": Int(lo=0),
    }
)
CANCEL = spec(
    {
        "cancellation_details": Obj({"comment": Str(), "feedback": Str()}),
        "invoice_now": Bool(),
        "prorate": Bool(),
    }
)
STATUSES = ("active", "all", "canceled", "ended", "incomplete", "incomplete_expired")
LIST = spec(
    {
        "automatic_tax": ANY,
        "collection_method": COLLECTION,
        "current_period_end": ANY,
        "current_period_start": ANY,
        "customer": Str(),
        "customer_account": Str(),
        "plan": Str(),
        "price": Str(),
        "status": Enum(*STATUSES, "past_due", "paused", "trialing", "unpaid"),
        "test_clock": Str(),
    },
    listing=True,
)


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    customer = require_customer(state, params["customer"])
    if not params.get("items"):
        raise StripeError.missing("items")
    flexible = (params.get("billing_mode") or {}).get("type") == "flexible"
    prices = subscription_items.resolve_all(state, params["items"], "items", flexible)
    currency = prices[0]["currency"]
    if customer["currency"] not in (None, currency):
        raise StripeError.state(
            "You cannot combine currencies on a single customer. This customer has had a "
            f"subscription or payment in {customer['currency']}, but you are trying to pay in "
            f"{currency}.",
            param="currency",
        )
    extra = [_extra_price(state, x, i) for i, x in enumerate(params.get("add_invoice_items") or [])]
    items = [
        {**item, "_tax_rates": _item_rates(state, item, f"items[{i}][tax_rates]")}
        for i, item in enumerate(params["items"])
    ]
    params = {**params, "items": items}
    defaults = tax_rates.applicable(state, params.get("default_tax_rates"), "default_tax_rates")
    at = state.now(customer.get("test_clock"))
    period, trial = billing.first_period(params, prices[0], at)
    share = billing.first_share(params, prices[0], period, trial)
    collect_by = params.get("collection_method") or "charge_automatically"
    behavior = params.get("payment_behavior") or "allow_incomplete"
    due_now = (
        0
        if trial or share == (0, 1)
        else sum(
            amount_for(p, i.get("quantity") or 1)
            for p, i in zip(prices, params["items"], strict=True)
            if (p["recurring"] or {}).get("usage_type") != "metered"
        )
    )
    due_now += sum(amount_for(p, x.get("quantity") or 1) for p, x in extra)
    charge = collect_by == "charge_automatically" and due_now > 0
    declined = charge and _first_charge_fails(state, customer, params, behavior)
    status = "trialing" if trial else "active"
    if charge and (declined or behavior == "default_incomplete"):
        status = "incomplete"
    sub = _new_subscription(state, customer, params, prices, period, trial, at, status, currency)
    sub["_default_tax_rates"] = defaults
    customer["currency"] = currency
    for price, extra_params in extra:
        new_item(state, customer, at, price=price, sub=sub, **_item_fields(extra_params))
    windows = None
    if flexible:
        sub["billing_mode"] = {
            "flexible": {"proration_discounts": "included"},
            "type": "flexible",
            "updated_at": at,
        }
        windows = {
            item["id"]: (item["current_period_start"], item["current_period_end"])
            for item in billing.items_of(state, sub)
            if (state.prices.rows[item["_price"]]["recurring"] or {}).get("usage_type") != "metered"
        }
    invoice = billing.build_invoice(
        state,
        sub,
        at,
        "subscription_create",
        period,
        None,
        trial,
        item_windows=windows,
        share=share,
    )
    state.emit("customer.subscription.created", sub, at=at)
    invoicing.open_draft(state, invoice, at)
    collection.finalize(state, invoice, at)
    if behavior != "default_incomplete" and collection.collects(invoice):
        collection.attempt(state, invoice, at)
    state.schedule(billing.period_of(state, sub)[1], sub["test_clock"])
    return render(call, sub)


def _first_charge_fails(
    state: StripeState, customer: Record, params: dict[str, Any], behavior: str
) -> bool:
    """Whether charging the first invoice would fail; raise when Stripe refuses to create.

    With no payment method at all Stripe creates nothing (400) unless
    ``payment_behavior=default_incomplete``; a decline with ``error_if_incomplete`` is a 402.
    """
    probe = {
        "customer": customer["id"],
        "default_payment_method": params.get("default_payment_method"),
    }
    result = collection.outcome(state, probe)
    if result.failure == collection.NO_PAYMENT_METHOD and behavior != "default_incomplete":
        raise StripeError.no_payment_method()
    if result.failure is not None and behavior == "error_if_incomplete":
        raise StripeError.card_declined(result.failure)
    return result.failure is not None


def retrieve(call: Call) -> dict[str, Any]:
    return render(call, call.state.subscriptions.require(call.arg("id")))


def update(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    sub = state.subscriptions.require(call.arg("id"))
    if sub["status"] in billing.ENDED and set(params) - {
        "metadata",
        "cancellation_details",
        "expand",
    }:
        raise StripeError.state(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
    at = state.now(sub["test_clock"])
    changes = subscription_items.plan_changes(state, sub, params.get("items") or [])
    defaults = None
    if "default_tax_rates" in params:
        defaults = tax_rates.applicable(state, params["default_tax_rates"], "default_tax_rates")
    if params.get("collection_method") == "send_invoice" and params.get("days_until_due") is None:
        params = {**params, "days_until_due": sub["days_until_due"] or 30}
    before = state.before(sub)
    subscription_items.apply_changes(state, sub, changes, at)
    assign(
        sub, params, ("cancel_at_period_end", "collection_method", "days_until_due", "description")
    )
    assign(sub, params, ("default_payment_method",))
    if defaults is not None:
        sub["_default_tax_rates"] = defaults
    if "cancel_at" in params:
        sub["cancel_at"] = _cancel_at(params["cancel_at"], state, sub)
    if sub["cancel_at_period_end"] is None:
        sub["cancel_at_period_end"] = False
    if sub["cancel_at_period_end"] or sub["cancel_at"]:
        sub["canceled_at"] = sub["canceled_at"] or at
    elif "cancel_at_period_end" in params or "cancel_at" in params:
        sub["canceled_at"] = None
    if params.get("trial_end") == "now" and sub["status"] == "trialing":
        billing.restart_period(state, sub, at)
    if params.get("billing_cycle_anchor") == "now":
        billing.restart_period(state, sub, at)
    apply_metadata(sub, params)
    state.emit_update("customer.subscription.updated", sub, before, at=at)
    return render(call, sub)


def cancel(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    sub = state.subscriptions.require(call.arg("id"))
    if sub["status"] in billing.ENDED:
        raise StripeError.state(
            f"This subscription has already been canceled: {sub['id']}", code="resource_missing"
        )
    details = params.get("cancellation_details") or {}
    sub["cancellation_details"] = {
        "comment": details.get("comment"),
        "feedback": details.get("feedback"),
        "reason": "cancellation_requested",
    }
    at = state.now(sub["test_clock"])
    billing.cancel(state, sub, at, invoice_now=bool(params.get("invoice_now")))
    return render(call, sub)


def listing(call: Call) -> dict[str, Any]:
    params = call.params
    status = params.get("status")
    simple = {k: params[k] for k in ("collection_method", "customer", "test_clock") if k in params}
    price = params.get("price") or params.get("plan")
    state = call.state

    def match(sub: Record) -> bool:
        if any(sub.get(k) != v for k, v in simple.items()):
            return False
        if price and all(
            state.subscription_items.rows[i]["_price"] != price for i in sub["_items"]
        ):
            return False
        if status is None:
            return sub["status"] not in billing.ENDED
        if status == "all":
            return True
        if status == "ended":
            return sub["status"] in billing.ENDED
        return bool(sub["status"] == status)

    return page(call, state.subscriptions, "/v1/subscriptions", match)


def searching(call: Call) -> dict[str, Any]:
    return search.run(call, call.state.subscriptions, "/v1/subscriptions/search")


def _new_subscription(
    state: StripeState,
    customer: Record,
    params: dict[str, Any],
    prices: list[Record],
    period: tuple[int, int],
    trial: bool,
    at: int,
    status: str,
    currency: str,
) -> Record:
    anchor = period[1] if trial or params.get("billing_cycle_anchor") else at
    sub: Record = {
        "id": new_id("sub"),
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": anchor,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic", "updated_at": None},
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": bool(params.get("cancel_at_period_end")),
        "canceled_at": at if params.get("cancel_at_period_end") else None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": params.get("collection_method") or "charge_automatically",
        "created": at,
        "currency": currency,
        "customer": customer["id"],
        "days_until_due": params.get("days_until_due"),
        "default_payment_method": params.get("default_payment_method"),
        "default_source": None,
        "default_tax_rates": [],
        "description": params.get("description"),
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "latest_invoice": None,
        "livemode": False,
        "metadata": {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": at,
        "status": status,
        "test_clock": customer.get("test_clock"),
        "transfer_data": None,
        "trial_end": period[1] if trial else None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": at if trial else None,
        "_anchor_day": datetime.fromtimestamp(anchor, UTC).day,
        "_items": [],
        "_invoices": [],
    }
    if sub["collection_method"] == "send_invoice" and sub["days_until_due"] is None:
        sub["days_until_due"] = 30
    apply_metadata(sub, params)
    if "cancel_at" in params:
        sub["cancel_at"] = _cancel_at(params["cancel_at"], state, sub, period)
    state.subscriptions.add(sub)
    flexible = (params.get("billing_mode") or {}).get("type") == "flexible"
    for price, item in zip(prices, params["items"], strict=True):
        own = billing.first_period(params, price, at)[0] if flexible else period
        subscription_items.new_subscription_item(state, sub, price, item, own, at)
    return sub


def _cancel_at(
    value: Any, state: StripeState, sub: Record, period: tuple[int, int] | None = None
) -> int | None:
    if value in (None, ""):
        return None
    end = (period or billing.period_of(state, sub))[1]
    if value in ("min_period_end", "max_period_end"):
        return end
    if not isinstance(value, str) or not value.isdigit():
        raise StripeError.invalid(
            f"Invalid integer: {value}", param="cancel_at", code="parameter_invalid_integer"
        )
    return int(value)


def _extra_price(
    state: StripeState, extra: dict[str, Any], index: int
) -> tuple[Record, dict[str, Any]]:
    rates_name = f"add_invoice_items[{index}][tax_rates]"
    extra = {**extra, "_tax_rates": tax_rates.applicable(state, extra.get("tax_rates"), rates_name)}
    name = f"add_invoice_items[{index}][price]"
    if extra.get("price") is None:
        raise StripeError.missing(name)
    price = state.prices.require(extra["price"], name)
    if price["type"] != "one_time":
        raise StripeError.invalid(
            "The price specified is set to `type=recurring` but this field only accepts "
            "prices with `type=one_time`.",
            param=name,
        )
    return price, extra


def _item_rates(state: StripeState, item: dict[str, Any], name: str) -> list[str]:
    return tax_rates.applicable(state, item.get("tax_rates"), name)


def _item_fields(extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "quantity": extra.get("quantity") or 1,
        "metadata": extra.get("metadata") or {},
        "tax_rates": extra["_tax_rates"],
    }


ROUTES: Routes = {
    "/v1/subscriptions": {"POST": Endpoint(CREATE, create), "GET": Endpoint(LIST, listing)},
    "/v1/subscriptions/search": {"GET": Endpoint(search.SPEC, searching)},
    "/v1/subscriptions/{id}": {
        "GET": Endpoint(spec({}), retrieve),
        "POST": Endpoint(UPDATE, update),
        "DELETE": Endpoint(CANCEL, cancel),
    },
}
