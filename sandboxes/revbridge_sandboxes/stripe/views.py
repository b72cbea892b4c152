"""The public JSON of stored records: private ``_`` fields dropped, sub-lists composed.

Records are stored in the API's own shape. A few objects embed others the way
Stripe returns them: a subscription's ``items`` list (each item with its full
``price`` and legacy ``plan``), an invoice's first ten ``lines``, and the tax rates
applied to subscriptions, their items, invoices and invoice items (stored as ids in
``_tax_rates``/``_default_tax_rates``, shown as full TaxRate objects in ``tax_rates``/
``default_tax_rates``, as the current API shows them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from revbridge_sandboxes.stripe.tables import Record

if TYPE_CHECKING:
    from revbridge_sandboxes.stripe.state import StripeState

#: How many sub-list entries an embedding object shows before ``has_more``.
EMBEDDED = 10


def public(record: Record) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def list_object(
    data: list[dict[str, Any]], url: str, has_more: bool, total: int | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"object": "list", "data": data, "has_more": has_more}
    if total is not None:
        body["total_count"] = total
    body["url"] = url
    return body


def view(state: StripeState, record: Record) -> dict[str, Any]:
    kind = record.get("object")
    if kind == "subscription":
        return subscription(state, record)
    if kind == "subscription_item":
        return subscription_item(state, record)
    if kind == "invoice":
        return invoice(state, record)
    if kind == "invoiceitem":
        body = public(record)
        body["tax_rates"] = tax_rates(state, record.get("_tax_rates"))
        return body
    return public(record)


def tax_rates(state: StripeState, ids: list[str] | None) -> list[dict[str, Any]]:
    """The TaxRate objects behind stored rate ids, in their order."""
    rates = (state.tax_rates.get(i) for i in ids or [])
    return [public(r) for r in rates if r is not None]


def line(record: dict[str, Any]) -> dict[str, Any]:
    """An invoice line as shown (its rate ids are private: the API shows only ``taxes``)."""
    return public(record)


def subscription(state: StripeState, record: Record) -> dict[str, Any]:
    body = public(record)
    items = [state.subscription_items.rows[i] for i in record["_items"]]
    body["items"] = list_object(
        [subscription_item(state, item) for item in items[:EMBEDDED]],
        f"/v1/subscription_items?subscription={record['id']}",
        len(items) > EMBEDDED,
        len(items),
    )
    body["default_tax_rates"] = tax_rates(state, record.get("_default_tax_rates"))
    return body


def subscription_item(state: StripeState, record: Record) -> dict[str, Any]:
    body = public(record)
    price = state.prices.rows[record["_price"]]
    body["price"] = public(price)
    body["plan"] = plan(price)
    body["tax_rates"] = tax_rates(state, record.get("_tax_rates"))
    return body


def plan(price: Record) -> dict[str, Any]:
    """The legacy ``plan`` twin of a recurring price, still embedded in items."""
    recurring = price.get("recurring") or {}
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count"),
        "livemode": False,
        "metadata": price["metadata"],
        "meter": recurring.get("meter"),
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": recurring.get("usage_type"),
    }


def invoice(state: StripeState, record: Record) -> dict[str, Any]:
    body = public(record)
    lines = record["_lines"]
    body["lines"] = list_object(
        [line(x) for x in lines[:EMBEDDED]],
        f"/v1/invoices/{record['id']}/lines",
        len(lines) > EMBEDDED,
        len(lines),
    )
    body["default_tax_rates"] = tax_rates(state, record.get("_default_tax_rates"))
    return body
