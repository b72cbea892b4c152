"""``/v1/products``: create (optionally with ``default_price_data``), read, update, delete."""

from __future__ import annotations

from typing import Any

from revbridge_sandboxes.stripe import prices, search
from revbridge_sandboxes.stripe.endpoint import Call, Endpoint, Routes, page, render
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.params import (
    ANY,
    Arr,
    Bool,
    Enum,
    Metadata,
    Obj,
    Str,
    apply_metadata,
    assign,
    spec,
)
from revbridge_sandboxes.stripe.state import StripeState
from revbridge_sandboxes.stripe.tables import Record, new_id

DEFAULT_PRICE_DATA = Obj(
    {
        "currency": Str(3),
        "currency_options": ANY,
        "custom_unit_amount": ANY,
        "metadata": Metadata(),
        "recurring": prices.RECURRING_LIGHT,
        "tax_behavior": prices.TAX_BEHAVIOR,
        "unit_amount": prices.AMOUNT,
        "unit_amount_decimal": prices.AMOUNT_DECIMAL,
    },
    required=("currency",),
)
_WRITABLE: dict[str, Any] = {
    "active": Bool(),
    "description": Str(40000),
    "images": Arr(Str(), max_items=8),
    "marketing_features": ANY,
    "metadata": Metadata(),
    "name": Str(250),
    "package_dimensions": ANY,
    "shippable": Bool(),
    "statement_descriptor": Str(22),
    "tax_code": Str(),
    "tax_details": ANY,
    "unit_label": Str(12),
    "url": Str(),
}
CREATE = spec(
    {
        **_WRITABLE,
        "default_price_data": DEFAULT_PRICE_DATA,
        "id": Str(),
        "type": Enum("good", "service"),
    },
    required=("name",),
)
UPDATE = spec({**_WRITABLE, "default_price": Str()})
LIST = spec(
    {
        "active": Bool(),
        "ids": Arr(Str()),
        "shippable": Bool(),
        "type": Enum("good", "service"),
        "url": Str(),
    },
    listing=True,
)
FIELDS = (
    "active",
    "description",
    "images",
    "marketing_features",
    "name",
    "package_dimensions",
    "shippable",
    "statement_descriptor",
    "tax_code",
    "unit_label",
    "url",
)


def new_product(state: StripeState, params: dict[str, Any]) -> Record:
    """Create a product from create params (also used by ``product_data``)."""
    product_id = params.get("id") or new_id("prod")
    if state.products.get(product_id) is not None:
        raise StripeError.state(
            "Product already exists.", param="id", code="resource_already_exists"
        )
    now = state.now()
    product: Record = {
        "id": product_id,
        "object": "product",
        "active": True,
        "created": now,
        "default_price": None,
        "description": None,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": {},
        "name": params["name"],
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": params.get("type") or "service",
        "unit_label": None,
        "updated": now,
        "url": None,
    }
    assign(product, params, FIELDS)
    if product["active"] is None:
        product["active"] = True
    apply_metadata(product, params)
    state.products.add(product)
    state.emit("product.created", product)
    return product


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    data = params.get("default_price_data")
    if data is not None:
        prices.check_amounts(data, "default_price_data")
    product = new_product(state, params)
    if data is not None:
        price = prices.new_price(state, {**data, "product": product["id"]})
        product["default_price"] = price["id"]
    return render(call, product)


def retrieve(call: Call) -> dict[str, Any]:
    return render(call, call.state.products.require(call.arg("id")))


def update(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    product = state.products.require(call.arg("id"))
    before = state.before(product)
    if params.get("default_price") is not None:
        price = state.prices.require(params["default_price"], "default_price")
        if price["product"] != product["id"]:
            raise StripeError.state(
                "The default price must belong to this product.", param="default_price"
            )
    if params.get("name", "") is None:
        raise StripeError.invalid("You cannot unset the product name.", param="name")
    assign(product, params, (*FIELDS, "default_price"))
    apply_metadata(product, params)
    product["updated"] = state.now()
    state.emit_update("product.updated", product, before)
    return render(call, product)


def delete(call: Call) -> dict[str, Any]:
    state = call.state
    product = state.products.require(call.arg("id"))
    if any(p["product"] == product["id"] for p in state.prices.rows.values()):
        raise StripeError.state(
            "This product cannot be deleted because it has one or more user-created prices."
        )
    state.emit("product.deleted", product)
    state.products.remove(product["id"])
    return {"id": product["id"], "object": "product", "deleted": True}


def listing(call: Call) -> dict[str, Any]:
    params = call.params
    ids = set(params["ids"]) if params.get("ids") else None
    filters = {k: params[k] for k in ("active", "shippable", "type", "url") if k in params}

    def match(p: Record) -> bool:
        return (ids is None or p["id"] in ids) and all(p.get(k) == v for k, v in filters.items())

    return page(call, call.state.products, "/v1/products", match)


def searching(call: Call) -> dict[str, Any]:
    return search.run(call, call.state.products, "/v1/products/search")


ROUTES: Routes = {
    "/v1/products": {"POST": Endpoint(CREATE, create), "GET": Endpoint(LIST, listing)},
    "/v1/products/search": {"GET": Endpoint(search.SPEC, searching)},
    "/v1/products/{id}": {
        "GET": Endpoint(spec({}), retrieve),
        "POST": Endpoint(UPDATE, update),
        "DELETE": Endpoint(spec({}), delete),
    },
}
