"""The tax the tax engine computed, charged by Stripe through Tax Rates.

Stripe bills what revbridge tells it; the tax engine (AvaTax) decides the tax. Each order
line's rate is its quoted tax over its amount, as a percentage of at most four decimals
(Stripe's precision), exclusive of the price. One Stripe Tax Rate exists per country and
percentage, marked ``metadata[revbridge_tax_rate] = "<country>:<percentage>"``; it is
found by that mark (rates are listed once and cached) or created under an idempotency key
derived from it, so two workers never make two. A line with no tax gets no rate.

A rate rounded to four decimals can charge a cent more or less than the engine on some
invoice: the receivables flow compares the two on every invoice and opens a case
(``tax.mismatch``) when they differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from revbridge.canonical import idempotency_key
from revbridge.ports import OrderPlan, TaxQuote

Record = dict[str, object]
RATE_KEY = "revbridge_tax_rate"
PLACES = Decimal("0.0001")


def percentage(tax: Decimal, amount: Decimal) -> Decimal | None:
    """The line's rate in percent (four decimals), or None when it is untaxed."""
    if not tax or not amount:
        return None
    return (tax * 100 / amount).quantize(PLACES, rounding=ROUND_HALF_UP).normalize()


def country_of(plan: OrderPlan) -> str:
    """Where the tax is due: the customer's billing country, else the entity's."""
    address = plan.order.customer.billing_address
    return address.country if address is not None else plan.entity.country


def rate_key(country: str, rate: Decimal) -> str:
    return f"{country}:{rate:f}"


def wanted_rates(plan: OrderPlan, tax: TaxQuote | None) -> dict[str, str]:
    """The rate key each taxed order line needs, by line id."""
    if tax is None:
        return {}
    country = country_of(plan)
    found = {}
    for line in plan.order.lines:
        quoted = tax.line_tax.get(line.line_id)
        rate = percentage(quoted.amount, line.amount.amount) if quoted is not None else None
        if rate is not None:
            found[line.line_id] = rate_key(country, rate)
    return found


def rate_params(key: str) -> Record:
    country, _, rate = key.partition(":")
    return {
        "display_name": "Tax",
        "description": f"{rate}% ({country}), as the tax engine computed it",
        "percentage": rate,
        "inclusive": "false",
        "country": country,
        "metadata": {RATE_KEY: key},
    }


def create_key(key: str) -> str:
    return idempotency_key("tax-rate", key)


def rates_by_key(records: Iterable[dict[str, object]]) -> dict[str, str]:
    """Active rates revbridge made, by their mark."""
    found: dict[str, str] = {}
    for record in records:
        metadata = record.get("metadata")
        key = metadata.get(RATE_KEY) if isinstance(metadata, dict) else None
        if isinstance(key, str) and record.get("active") and not record.get("inclusive"):
            found.setdefault(key, str(record["id"]))
    return found
