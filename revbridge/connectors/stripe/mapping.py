"""Pure functions from canonical objects and order plans to Stripe parameters, and back.

Parameters are nested dicts in Stripe's shape; the client form-encodes them. Stripe
objects carry the canonical ids in metadata (``revbridge_customer_id``,
``revbridge_order_id``, ``revbridge_line_id``), which is how they are searched for again.

Prices are Stripe's: the policy names each product's ``price_lookup_key`` and Stripe holds
one price per currency under ``<price_lookup_key>_<currency>`` (``sub-platform-annual_gbp``).
Recurring lines bill that price (an order line's amount is not sent: whether it covers a
billing period or the whole term is the CRM's convention, the price is not ambiguous).
A one-time service line bills the price when ``quantity * price`` is exactly the line's
amount, and otherwise (no price in that currency, a negotiated amount, a fractional
quantity) the line's own amount in minor units.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from revbridge.canonical import Customer, OrderLine
from revbridge.canonical.commerce import Contract
from revbridge.errors import DataError
from revbridge.ports import EntityContext, LineMapping, OrderPlan

Record = dict[str, Any]

CUSTOMER_ID_KEY = "revbridge_customer_id"
ORDER_ID_KEY = "revbridge_order_id"
#: The deal's correlation id, which Stripe copies onto the subscription's invoices
#: (``parent.subscription_details.metadata``): how an invoice event finds its deal.
CORRELATION_KEY = "correlation_id"
LINE_ID_KEY = "revbridge_line_id"
ADDRESS_KEYS = ("line1", "line2", "city", "state", "postal_code", "country")
RECURRING_KINDS = ("subscription", "usage")
ONE_TIME_KINDS = ("service",)
#: Subscriptions in this state are over; Stripe never bills them again.
ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})
#: API versions from which invoice items take ``pricing[price]`` instead of ``price``.
PRICING_PARAM_SINCE = "2025-03-31"
#: API versions from which one subscription may mix billing intervals (flexible mode).
MIXED_INTERVALS_SINCE = "2025-07-30"


def api_version_at_least(version: str, since: str) -> bool:
    """Whether ``version`` (``2026-06-24.dahlia``; empty: the newest) dates from ``since``."""
    return not version or version[:10] >= since


def lookup_key(mapping: LineMapping, currency: str) -> str:
    """The lookup key of a product's price in ``currency``: ``sub-platform-annual_gbp``."""
    return f"{mapping.price_lookup_key}_{currency.lower()}"


def plan_lines(plan: OrderPlan, kinds: Iterable[str]) -> list[tuple[OrderLine, LineMapping]]:
    """The plan's lines whose product is of one of ``kinds``, with their mappings."""
    wanted = set(kinds)
    found = []
    for line in plan.order.lines:
        mapping = plan.lines.get(line.line_id)
        if mapping is None:
            raise DataError(
                f"order {plan.order.order_id} line {line.line_id} ({line.sku}) has no "
                "billing mapping",
                code="unmapped_line",
            )
        if mapping.kind in wanted:
            found.append((line, mapping))
    return found


def search_by_metadata(key: str, value: str) -> str:
    """A search query matching objects whose metadata ``key`` is ``value``."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"metadata['{key}']:'{escaped}'"


def fingerprint(params: Record) -> str:
    """A short digest of params, to key a write by what it changes."""
    text = repr(sorted(_flatten(params)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        return [pair for k, v in value.items() for pair in _flatten(v, f"{prefix}[{k}]")]
    if isinstance(value, list | tuple):
        return [pair for i, v in enumerate(value) for pair in _flatten(v, f"{prefix}[{i}]")]
    return [(prefix, str(value))]


# -- customers -----------------------------------------------------------------------------


def customer_params(customer: Customer, entity: EntityContext) -> Record:
    """A Stripe customer for ``customer``, billed by ``entity``.

    Stripe takes no currency on a customer (it is set by the first subscription or invoice
    item) and revbridge holds no email address, so neither is sent.
    """
    params: Record = {
        "name": customer.name,
        "tax_exempt": "exempt" if customer.tax_exemption is not None else "none",
        "metadata": {CUSTOMER_ID_KEY: customer.customer_id, "legal_entity": entity.code},
    }
    address = customer.billing_address
    if address is not None:
        params["address"] = {
            "line1": address.line1,
            "line2": address.line2,
            "city": address.city,
            "state": address.region,
            "postal_code": address.postal_code,
            "country": address.country,
        }
    return params


def customer_changes(record: Record, params: Record) -> Record:
    """The params that differ from the Stripe customer ``record`` (empty: up to date)."""
    changes: Record = {
        name: params[name] for name in ("name", "tax_exempt") if record.get(name) != params[name]
    }
    wanted = params.get("address")
    if wanted is not None:
        current = record.get("address") or {}
        if any((current.get(k) or None) != wanted.get(k) for k in ADDRESS_KEYS):
            # Stripe unsets a field sent empty; every key goes so the address is replaced.
            changes["address"] = {k: wanted.get(k) or "" for k in ADDRESS_KEYS}
    metadata = record.get("metadata") or {}
    stale = {k: v for k, v in params["metadata"].items() if metadata.get(k) != v}
    if stale:
        changes["metadata"] = stale
    return changes


# -- subscriptions -------------------------------------------------------------------------


def whole_quantity(line: OrderLine) -> int:
    """The line's quantity as Stripe's integer quantity; a fraction is refused."""
    quantity = line.quantity
    if quantity != quantity.to_integral_value() or quantity < 0:
        raise DataError(
            f"line {line.line_id} ({line.sku}): quantity {quantity} is not a whole number "
            "of units, which a Stripe subscription item needs",
            code="fractional_quantity",
        )
    return int(quantity)


def is_metered(price: Record) -> bool:
    return (price.get("recurring") or {}).get("usage_type") == "metered"


def subscription_item(line: OrderLine, price: Record, tax_rate: str | None = None) -> Record:
    """One ``items[]`` entry: licensed prices carry the quantity, metered ones none."""
    item: Record = {"price": price["id"], "metadata": {LINE_ID_KEY: line.line_id}}
    if tax_rate is not None:
        item["tax_rates"] = [tax_rate]
    if not is_metered(price):
        item["quantity"] = whole_quantity(line)
    return item


def billing_start(contract: Contract | None, today: date) -> int | None:
    """The billing cycle anchor for a contract starting after ``today`` (UTC midnight)."""
    if contract is None or contract.start_date <= today:
        return None
    return int(datetime.combine(contract.start_date, time(0), UTC).timestamp())


def _interval_mode(prices: Iterable[Record], version: str) -> Record:
    recurring = [p["recurring"] for p in prices if p.get("recurring")]
    intervals = {(r["interval"], r.get("interval_count") or 1) for r in recurring}
    if len(intervals) <= 1:
        return {}
    if not api_version_at_least(version, MIXED_INTERVALS_SINCE):
        shown = ", ".join(sorted(f"{count} {unit}" for unit, count in intervals))
        raise DataError(
            f"the order's recurring prices bill at different intervals ({shown}); one "
            f"subscription can mix them only from API version {MIXED_INTERVALS_SINCE}.basil "
            f"(pinned: {version})",
            code="mixed_intervals",
        )
    return {"billing_mode": {"type": "flexible"}}


def subscription_params(
    plan: OrderPlan,
    customer_id: str,
    priced: list[tuple[OrderLine, Record]],
    *,
    collection_method: str,
    days_until_due: int,
    today: date,
    api_version: str,
    tax_rates: Mapping[str, str] | None = None,
) -> Record:
    """One subscription: an item per recurring line, invoiced as the policy says; a line
    with a Tax Rate in ``tax_rates`` (by line id) charges it.

    A contract starting later anchors the billing cycle on its start date and bills
    nothing before it; one that has started bills its first period at once. The
    customer's payment terms, when known, set the days until an invoice is due.
    """
    order = plan.order
    params: Record = {
        "customer": customer_id,
        "items": [
            subscription_item(line, price, (tax_rates or {}).get(line.line_id))
            for line, price in priced
        ],
        "collection_method": collection_method,
        "metadata": {
            ORDER_ID_KEY: order.order_id,
            "crm_opportunity": order.source.id,
            CUSTOMER_ID_KEY: order.customer.customer_id,
            CORRELATION_KEY: order.correlation_id,
        },
    }
    if collection_method == "send_invoice":
        terms = order.customer.payment_terms
        params["days_until_due"] = terms.net_days if terms is not None else days_until_due
    anchor = billing_start(order.contract, today)
    if anchor is not None:
        params["billing_cycle_anchor"] = anchor
        params["proration_behavior"] = "none"
    params.update(_interval_mode((price for _, price in priced), api_version))
    return params


# -- invoice items -------------------------------------------------------------------------


def _minor_units(line: OrderLine) -> int:
    try:
        return line.amount.to_minor_units()
    except ValueError as error:
        raise DataError(f"line {line.line_id} ({line.sku}): {error}", code="amount") from None


def price_covers(price: Record, line: OrderLine) -> bool:
    """Whether billing ``price`` times the line's quantity yields exactly the line's amount."""
    unit = price.get("unit_amount_decimal")
    quantity = line.quantity
    if (
        price.get("type") != "one_time"
        or price.get("billing_scheme", "per_unit") != "per_unit"
        or str(price.get("currency", "")).lower() != line.currency.lower()
        or unit is None
        or quantity != quantity.to_integral_value()
    ):
        return False
    return Decimal(str(unit)) * quantity == _minor_units(line)


def invoice_item_params(
    plan: OrderPlan, line: OrderLine, customer_id: str, price: Record | None, api_version: str
) -> Record:
    """A pending invoice item for a one-time line, priced as the module docstring says."""
    params: Record = {
        "customer": customer_id,
        "description": line.description or line.sku,
        "metadata": {
            ORDER_ID_KEY: plan.order.order_id,
            LINE_ID_KEY: line.line_id,
            CORRELATION_KEY: plan.order.correlation_id,
        },
    }
    if price is not None and price_covers(price, line):
        if api_version_at_least(api_version, PRICING_PARAM_SINCE):
            params["pricing"] = {"price": price["id"]}
        else:
            params["price"] = price["id"]
        params["quantity"] = int(line.quantity)
    else:
        params["amount"] = _minor_units(line)
        params["currency"] = line.currency.lower()
    return params
