"""``/v1/prices``: one-time and recurring prices, licensed or metered, per-unit or tiered.

``lookup_key`` is unique in the account: reusing one is a 400 unless
``transfer_lookup_key=true`` moves it. Metered prices must name the billing meter
(``recurring[meter]``) whose events they bill, as the current API requires.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from revbridge_sandboxes.stripe import search
from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, page, render
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import (
    ANY,
    Arr,
    Bool,
    DecimalStr,
    Enum,
    Field,
    Int,
    Metadata,
    Obj,
    Str,
    apply_metadata,
    assign,
    spec,
)
from revbridge_sandboxes.stripe.state import StripeState
from revbridge_sandboxes.stripe.tables import Record, new_id

AMOUNT = Int(lo=0, hi=99_999_999_999)
AMOUNT_DECIMAL = DecimalStr()
INTERVAL = Enum("day", "week", "month", "year")
TAX_BEHAVIOR = Enum("exclusive", "inclusive", "unspecified")
RECURRING_LIGHT = Obj({"interval": INTERVAL, "interval_count": Int(lo=1)}, required=("interval",))
RECURRING = Obj(
    {
        "interval": INTERVAL,
        "interval_count": Int(lo=1, hi=365),
        "meter": Str(),
        "trial_period_days": Int(lo=0),
        "usage_type": Enum("licensed", "metered"),
    },
    required=("interval",),
)


class UpTo(Field):
    def coerce(self, value: Any, name: str) -> Any:
        return "inf" if value == "inf" else Int(lo=1).coerce(value, name)


TIER = Obj(
    {
        "flat_amount": AMOUNT,
        "flat_amount_decimal": AMOUNT_DECIMAL,
        "unit_amount": AMOUNT,
        "unit_amount_decimal": AMOUNT_DECIMAL,
        "up_to": UpTo(),
    },
    required=("up_to",),
)
PRODUCT_DATA = Obj(
    {
        "active": Bool(),
        "id": Str(),
        "metadata": Metadata(),
        "name": Str(250),
        "statement_descriptor": Str(22),
        "tax_code": Str(),
        "tax_details": ANY,
        "unit_label": Str(12),
    },
    required=("name",),
)
CREATE = spec(
    {
        "active": Bool(),
        "billing_scheme": Enum("per_unit", "tiered"),
        "currency": Str(3),
        "currency_options": ANY,
        "custom_unit_amount": ANY,
        "lookup_key": Str(200),
        "metadata": Metadata(),
        "nickname": Str(),
        "product": Str(),
        "product_data": PRODUCT_DATA,
        "recurring": RECURRING,
        "tax_behavior": TAX_BEHAVIOR,
        "tiers": Arr(TIER),
        "tiers_mode": Enum("graduated", "volume"),
        "transfer_lookup_key": Bool(),
        "transform_quantity": Obj({"divide_by": Int(lo=1), "round": Enum("up", "down")}),
        "unit_amount": AMOUNT,
        "unit_amount_decimal": AMOUNT_DECIMAL,
    },
    required=("currency",),
)
UPDATE = spec(
    {
        "active": Bool(),
        "currency_options": ANY,
        "lookup_key": Str(200),
        "metadata": Metadata(),
        "nickname": Str(),
        "tax_behavior": TAX_BEHAVIOR,
        "transfer_lookup_key": Bool(),
    }
)
LIST = spec(
    {
        "active": Bool(),
        "currency": Str(3),
        "lookup_keys": Arr(Str(200), max_items=10),
        "product": Str(),
        "recurring": Obj(
            {"interval": INTERVAL, "meter": Str(), "usage_type": Enum("licensed", "metered")}
        ),
        "type": Enum("one_time", "recurring"),
    },
    listing=True,
)


def check_amounts(params: dict[str, Any], prefix: str = "") -> None:
    """A per-unit price needs an amount; a tiered one needs tiers and a mode."""
    name = (lambda k: f"{prefix}[{k}]") if prefix else (lambda k: k)
    if params.get("billing_scheme") == "tiered":
        if not params.get("tiers"):
            raise StripeError.missing(name("tiers"))
        if not params.get("tiers_mode"):
            raise StripeError.missing(name("tiers_mode"))
        if params["tiers"][-1]["up_to"] != "inf":
            raise StripeError.invalid("The last tier must have up_to=inf.", param=name("tiers"))
    elif all(
        params.get(k) is None for k in ("unit_amount", "unit_amount_decimal", "custom_unit_amount")
    ):
        raise StripeError.missing(name("unit_amount"))


def check(state: StripeState, params: dict[str, Any]) -> None:
    """Every check a price creation makes before anything is written."""
    check_amounts(params)
    if params.get("product") is None and params.get("product_data") is None:
        raise StripeError.missing("product")
    if params.get("product") is not None:
        state.products.require(params["product"], "product")
    recurring = params.get("recurring") or {}
    if recurring.get("usage_type") == "metered":
        meter = recurring.get("meter")
        if meter is None:
            raise StripeError.invalid(
                "Metered prices must be backed by a meter: pass recurring[meter].",
                param="recurring[meter]",
            )
        state.meters.require(meter, "recurring[meter]")
    key = params.get("lookup_key")
    if key and key in state.lookup_keys and not params.get("transfer_lookup_key"):
        raise StripeError.state(
            f"A price (`{state.lookup_keys[key]}`) already uses that lookup key.",
            param="lookup_key",
        )


def new_price(state: StripeState, params: dict[str, Any]) -> Record:
    """Write a checked price (``check`` first) and emit ``price.created``."""
    recurring = params.get("recurring")
    if recurring is not None:
        recurring = {
            "interval": recurring["interval"],
            "interval_count": recurring.get("interval_count") or 1,
            "meter": recurring.get("meter"),
            "trial_period_days": recurring.get("trial_period_days"),
            "usage_type": recurring.get("usage_type") or "licensed",
        }
    amount, decimal = params.get("unit_amount"), params.get("unit_amount_decimal")
    if amount is None and decimal is not None and decimal == decimal.to_integral_value():
        amount = int(decimal)
    price: Record = {
        "id": new_id("price"),
        "object": "price",
        "active": params.get("active") is not False,
        "billing_scheme": params.get("billing_scheme") or "per_unit",
        "created": state.now(),
        "currency": str(params["currency"]).lower(),
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": params.get("nickname"),
        "product": params["product"],
        "recurring": recurring,
        "tax_behavior": params.get("tax_behavior") or "unspecified",
        "tiers_mode": params.get("tiers_mode"),
        "transform_quantity": params.get("transform_quantity"),
        "type": "recurring" if recurring else "one_time",
        "unit_amount": amount,
        "unit_amount_decimal": _decimal_text(decimal if decimal is not None else amount),
        "_tiers": _plain_tiers(params.get("tiers")),
    }
    apply_metadata(price, params)
    state.prices.add(price)
    _take_lookup_key(state, price, params.get("lookup_key"))
    state.emit("price.created", price)
    return price


def amount_for(price: Record, quantity: int) -> int:
    """What ``quantity`` units cost in minor units (per-unit, volume or graduated)."""
    tiers = price.get("_tiers")
    if price["billing_scheme"] != "tiered" or not tiers:
        unit = Decimal(price["unit_amount_decimal"] or 0)
        return int((unit * quantity).to_integral_value())
    if price["tiers_mode"] == "volume":
        tier = next(t for t in tiers if t["up_to"] == "inf" or quantity <= t["up_to"])
        return int(_unit(tier) * quantity + _flat(tier)) if quantity else 0
    total, floor = Decimal(0), 0
    for tier in tiers:
        top = quantity if tier["up_to"] == "inf" else min(quantity, tier["up_to"])
        if top > floor:
            total += _unit(tier) * (top - floor) + _flat(tier)
        floor = top if tier["up_to"] == "inf" else tier["up_to"]
        if quantity <= floor:
            break
    return int(total.to_integral_value())


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, dict(call.params)
    check(state, params)
    if params.get("product") is None:
        from revbridge_sandboxes.stripe.products import new_product

        params["product"] = new_product(state, params["product_data"])["id"]
    return render(call, new_price(state, params))


def retrieve(call: Call) -> dict[str, Any]:
    return render(call, call.state.prices.require(call.arg("id")))


def update(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    price = state.prices.require(call.arg("id"))
    key = params.get("lookup_key")
    if (
        key
        and state.lookup_keys.get(key) not in (None, price["id"])
        and not params.get("transfer_lookup_key")
    ):
        raise StripeError.state(
            f"A price (`{state.lookup_keys[key]}`) already uses that lookup key.",
            param="lookup_key",
        )
    before = state.before(price)
    assign(price, params, ("active", "nickname", "tax_behavior"))
    if price["active"] is None:
        price["active"] = True
    if "lookup_key" in params:
        _take_lookup_key(state, price, key)
    apply_metadata(price, params)
    state.emit_update("price.updated", price, before)
    return render(call, price)


def listing(call: Call) -> dict[str, Any]:
    params = call.params
    keys = set(params["lookup_keys"]) if params.get("lookup_keys") else None
    simple = {k: params[k] for k in ("active", "currency", "product", "type") if k in params}
    recurring = params.get("recurring") or {}

    def match(p: Record) -> bool:
        if keys is not None and p["lookup_key"] not in keys:
            return False
        if any(p.get(k) != v for k, v in simple.items()):
            return False
        spec_ = p.get("recurring") or {}
        return all(spec_.get(k) == v for k, v in recurring.items())

    return page(call, call.state.prices, "/v1/prices", match)


def searching(call: Call) -> dict[str, Any]:
    return search.run(call, call.state.prices, "/v1/prices/search")


def _take_lookup_key(state: StripeState, price: Record, key: str | None) -> None:
    if price["lookup_key"]:
        state.lookup_keys.pop(price["lookup_key"], None)
    previous_id = state.lookup_keys.get(key) if key else None
    if key and previous_id and previous_id != price["id"]:
        previous = state.prices.rows[previous_id]
        before = state.before(previous)
        previous["lookup_key"] = None
        state.emit_update("price.updated", previous, before)
    price["lookup_key"] = key
    if key:
        state.lookup_keys[key] = price["id"]


def _plain_tiers(tiers: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Tiers with decimals as strings, so the record stays JSON."""
    if tiers is None:
        return None
    return [{k: str(v) if isinstance(v, Decimal) else v for k, v in t.items()} for t in tiers]


def _decimal_text(value: Decimal | int | None) -> str | None:
    if value is None:
        return None
    text = format(Decimal(value).normalize(), "f")
    return text


def _unit(tier: dict[str, Any]) -> Decimal:
    value = tier.get("unit_amount_decimal")
    return Decimal(value if value is not None else tier.get("unit_amount") or 0)


def _flat(tier: dict[str, Any]) -> Decimal:
    value = tier.get("flat_amount_decimal")
    return Decimal(value if value is not None else tier.get("flat_amount") or 0)


ROUTES: Routes = {
    "/v1/prices": {"POST": Endpoint(CREATE, create), "GET": Endpoint(LIST, listing)},
    "/v1/prices/search": {"GET": Endpoint(search.SPEC, searching)},
    "/v1/prices/{id}": {"GET": Endpoint(spec({}), retrieve), "POST": Endpoint(UPDATE, update)},
}
