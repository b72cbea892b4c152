"""Subscription items (``si_…``): the ``items`` of a subscription, and ``/v1/subscription_items``.

All items of one subscription share its currency and (unless billing is flexible) its
interval; a price appears at most once; metered items carry no quantity. The same checks apply to
``items[...]`` on subscription create/update and to the item endpoints. An item's
``tax_rates[]`` (active rates only; an empty value clears them) tax its lines on the
invoices created after the change, in place of the subscription's default rates.
"""

from __future__ import annotations

from typing import Any

from revbridge_sandboxes.stripe import billing, tax_rates
from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, render
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import ANY, Bool, Int, Metadata, Obj, Str, metadata, spec
from revbridge_sandboxes.stripe.prices import RECURRING_LIGHT, check_amounts, new_price
from revbridge_sandboxes.stripe.state import StripeState
from revbridge_sandboxes.stripe.tables import Record, new_id
from revbridge_sandboxes.stripe.views import list_object, subscription_item

PRICE_DATA = Obj(
    {
        "currency": Str(3),
        "product": Str(),
        "recurring": RECURRING_LIGHT,
        "tax_behavior": ANY,
        "unit_amount": Int(lo=0),
        "unit_amount_decimal": ANY,
    },
    required=("currency", "product", "recurring"),
)
_ITEM_FIELDS: dict[str, Any] = {
    "billing_thresholds": ANY,
    "current_trial": ANY,
    "discounts": ANY,
    "metadata": Metadata(),
    "plan": Str(),
    "price": Str(),
    "price_data": PRICE_DATA,
    "quantity": Int(lo=0),
    "tax_rates": tax_rates.IDS,
}
ITEM = Obj(_ITEM_FIELDS)
ITEM_UPDATE = Obj({**_ITEM_FIELDS, "clear_usage": Bool(), "deleted": Bool(), "id": Str()})
_WRITE: dict[str, Any] = {
    **_ITEM_FIELDS,
    "payment_behavior": ANY,
    "proration_behavior": ANY,
    "proration_date": Int(),
}
CREATE = spec({**_WRITE, "subscription": Str()}, required=("subscription",))
UPDATE = spec({**_WRITE, "off_session": Bool()})
DELETE = spec({"clear_usage": Bool(), "proration_behavior": ANY, "proration_date": Int()})
LIST = spec({"subscription": Str()}, required=("subscription",), listing=True)

Change = tuple[str, Any, dict[str, Any]]


def resolve(state: StripeState, item: dict[str, Any], name: str) -> Record:
    """The recurring price an ``items[i]`` entry names (creating ``price_data`` prices)."""
    data = item.get("price_data")
    if data is not None:
        state.products.require(data["product"], f"{name}[price_data][product]")
        check_amounts(data, f"{name}[price_data]")
        return new_price(state, {**data, "active": False})
    price_id = item.get("price") or item.get("plan")
    if price_id is None:
        raise StripeError.missing(f"{name}[price]")
    price = state.prices.require(price_id, f"{name}[price]")
    if price["type"] != "recurring":
        raise StripeError.invalid(
            "The price specified is set to `type=one_time` but this field only accepts prices "
            "with `type=recurring`.",
            param=f"{name}[price]",
        )
    if not price["active"]:
        raise StripeError.invalid(
            "The price specified is inactive. This field only accepts active prices.",
            param=f"{name}[price]",
        )
    if _metered(price) and item.get("quantity") is not None:
        raise StripeError.invalid(
            f"Quantity should not be specified where usage_type is `metered`. Remove quantity "
            f"from `{name}`.",
            param=f"{name}[quantity]",
        )
    return price


def resolve_all(
    state: StripeState, items: list[dict[str, Any]], name: str, flexible: bool = False
) -> list[Record]:
    prices = [resolve(state, item, f"{name}[{i}]") for i, item in enumerate(items)]
    check_compatible(prices, flexible)
    return prices


def check_compatible(prices: list[Record], flexible: bool = False) -> None:
    """Prices on one subscription: distinct, one currency, and (unless flexible billing)
    one interval."""
    seen: set[str] = set()
    for price in prices:
        if price["id"] in seen:
            raise StripeError.invalid(
                "Cannot add multiple subscription items with the same price: " + price["id"],
                param="items",
            )
        seen.add(price["id"])
    first = prices[0]
    for price in prices[1:]:
        fields = ("currency",) if flexible else ("currency", "interval", "interval_count")
        for field in fields:
            a = first["currency"] if field == "currency" else first["recurring"][field]
            b = price["currency"] if field == "currency" else price["recurring"][field]
            if a != b:
                raise StripeError.invalid(
                    "Currency and interval fields must match across all plans on this "
                    f"subscription. Found mismatch in {field} field.",
                    param="items",
                )


def new_subscription_item(
    state: StripeState,
    sub: Record,
    price: Record,
    params: dict[str, Any],
    period: tuple[int, int],
    at: int,
) -> Record:
    item: Record = {
        "id": new_id("si"),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": at,
        "current_period_end": period[1],
        "current_period_start": period[0],
        "discounts": [],
        "metadata": metadata({}, params.get("metadata") or {}),
        "quantity": None if _metered(price) else params.get("quantity") or 1,
        "subscription": sub["id"],
        "tax_rates": [],
        "_price": price["id"],
        "_tax_rates": list(params.get("_tax_rates") or []),
    }
    state.subscription_items.add(item)
    sub["_items"].append(item["id"])
    return item


def plan_changes(state: StripeState, sub: Record, items: list[dict[str, Any]]) -> list[Change]:
    """Check ``items[...]`` of a subscription update; return what to change."""
    changes: list[Change] = []
    kept = {i: state.subscription_items.rows[i]["_price"] for i in sub["_items"]}
    for index, item in enumerate(items):
        name = f"items[{index}]"
        item_id = item.get("id")
        if item_id is not None and item_id not in kept:
            raise StripeError.no_such("subscription_item", item_id, f"{name}[id]")
        if item.get("deleted"):
            if item_id is None:
                raise StripeError.missing(f"{name}[id]")
            kept.pop(item_id)
            changes.append(("delete", item_id, item))
            continue
        new_price_given = any(item.get(k) is not None for k in ("price", "plan", "price_data"))
        price = resolve(state, item, name) if new_price_given or item_id is None else None
        if "tax_rates" in item:
            rates = tax_rates.applicable(state, item["tax_rates"], f"{name}[tax_rates]")
            item = {**item, "_tax_rates": rates}
        if item_id is None:
            changes.append(("add", price, item))
            kept[new_id("si")] = price["id"] if price else ""
        else:
            changes.append(("update", item_id, {**item, "_new_price": price}))
            if price is not None:
                kept[item_id] = price["id"]
    if not kept:
        raise StripeError.invalid("A subscription must have at least one item.", param="items")
    check_compatible([state.prices.rows[p] for p in kept.values()], billing.is_flexible(sub))
    return changes


def apply_changes(state: StripeState, sub: Record, changes: list[Change], at: int) -> None:
    period = billing.period_of(state, sub)
    for kind, target, item in changes:
        if kind == "delete":
            sub["_items"].remove(target)
            state.subscription_items.remove(target)
        elif kind == "add":
            new_subscription_item(state, sub, target, item, period, at)
        else:
            record = state.subscription_items.rows[target]
            price = item.get("_new_price")
            if price is not None:
                record["_price"] = price["id"]
            metered = _metered(state.prices.rows[record["_price"]])
            if metered:
                record["quantity"] = None
            elif item.get("quantity") is not None or price is not None:
                record["quantity"] = item.get("quantity") or record["quantity"] or 1
            if "metadata" in item:
                record["metadata"] = metadata(record["metadata"], item["metadata"])
            if "_tax_rates" in item:
                record["_tax_rates"] = item["_tax_rates"]


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    sub = _live_subscription(state, params["subscription"])
    changes = plan_changes(state, sub, [{k: v for k, v in params.items() if k in _ITEM_FIELDS}])
    return _change(call, sub, changes)[-1]


def update(call: Call) -> dict[str, Any]:
    state = call.state
    record = state.subscription_items.require(call.arg("id"))
    sub = _live_subscription(state, record["subscription"])
    item = {k: v for k, v in call.params.items() if k in _ITEM_FIELDS}
    changes = plan_changes(state, sub, [{**item, "id": record["id"]}])
    _change(call, sub, changes)
    return render(call, record)


def delete(call: Call) -> dict[str, Any]:
    state = call.state
    record = state.subscription_items.require(call.arg("id"))
    sub = _live_subscription(state, record["subscription"])
    _change(call, sub, plan_changes(state, sub, [{"id": record["id"], "deleted": True}]))
    return {"id": record["id"], "object": "subscription_item", "deleted": True}


def retrieve(call: Call) -> dict[str, Any]:
    return render(call, call.state.subscription_items.require(call.arg("id")))


def listing(call: Call) -> dict[str, Any]:
    state = call.state
    sub = state.subscriptions.require(call.params["subscription"], "subscription")
    items = [state.subscription_items.rows[i] for i in sub["_items"]]
    after = call.params.get("starting_after")
    if after:
        ids = [i["id"] for i in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    limit = call.params.get("limit") or 10
    data = [subscription_item(state, i) for i in items[:limit]]
    return list_object(data, "/v1/subscription_items", len(items) > limit)


def _live_subscription(state: StripeState, sub_id: Any) -> Record:
    sub = state.subscriptions.require(sub_id, "subscription")
    if sub["status"] in billing.ENDED:
        raise StripeError.state("This subscription is canceled and cannot be changed.")
    return sub


def _change(call: Call, sub: Record, changes: list[Change]) -> list[dict[str, Any]]:
    state = call.state
    at = state.now(sub["test_clock"])
    before = state.before(sub)
    apply_changes(state, sub, changes, at)
    state.emit_update("customer.subscription.updated", sub, before, at=at)
    return [render(call, state.subscription_items.rows[i]) for i in sub["_items"]]


def _metered(price: Record) -> bool:
    return bool((price.get("recurring") or {}).get("usage_type") == "metered")


ROUTES: Routes = {
    "/v1/subscription_items": {"POST": Endpoint(CREATE, create), "GET": Endpoint(LIST, listing)},
    "/v1/subscription_items/{id}": {
        "GET": Endpoint(spec({}), retrieve),
        "POST": Endpoint(UPDATE, update),
        "DELETE": Endpoint(DELETE, delete),
    },
}
