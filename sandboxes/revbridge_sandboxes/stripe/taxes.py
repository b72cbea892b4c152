"""Tax on invoice lines from manual tax rates, and the invoice totals that follow.

Which rates apply to a line (Stripe's "Tax rates" guides for Billing and Invoicing):
the line's own rates — a subscription item's ``tax_rates`` for its lines, an invoice
item's ``tax_rates`` for its line — and only when it has none, the invoice's
``default_tax_rates`` (which a subscription's invoices copy from the subscription's
``default_tax_rates`` when they are created). Own rates replace the defaults; they do
not add to them.

How tax is computed and rounded (the rule this sandbox implements):

* per line and per rate, on the line's amount (the sandbox models no discounts, so
  the amount is the taxable base), in the currency's minor unit;
* an exclusive rate ``p``: ``tax = amount * p / 100``;
* inclusive rates ``p_1 … p_n`` on one line carve the tax out of the amount:
  ``tax_i = amount * p_i / (100 + sum of p)``; the line's ``taxable_amount`` is the amount
  less those taxes, and exclusive rates on the same line apply to that net amount;
* each tax is rounded on its own to the nearest minor unit, halves away from zero
  (``ROUND_HALF_UP``), before anything is summed. Stripe's support article "Rounding
  rules for Stripe fees" (support.stripe.com/questions/rounding-rules-for-stripe-fees)
  shows this with invoice lines of $0.43 and $4.84 at 15 %: $0.0645 → $0.06 and
  $0.7265 → $0.73, total tax $0.79, and says halves (0.025) round up. Rounding the
  sum instead would differ on other amounts: two lines of 5 at 10 % give 1 + 1 = 2
  here, not round(1.0) = 1.

Only ``Decimal`` and ``int`` arithmetic is used; no money passes through a float.

Rendering follows the current API: each line's ``taxes`` is a list of
``{amount, tax_behavior, tax_rate_details: {tax_rate}, taxability_reason:
"not_available", taxable_amount, type: "tax_rate_details"}`` (the values Stripe's API
reference shows for a manual rate); the invoice's ``total_taxes`` sums them per rate.
``subtotal`` is the sum of line amounts (inclusive tax inside),
``subtotal_excluding_tax`` and ``total_excluding_tax`` leave inclusive tax out,
``total = subtotal + exclusive tax``, and ``amount_due`` is the total (never below 0).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from revbridge_sandboxes.stripe.tables import Record
from revbridge_sandboxes.stripe.tax_rates import percentage_of

HUNDRED = Decimal(100)
#: Stripe's ``taxability_reason`` for tax computed from a manual tax rate.
MANUAL_REASON = "not_available"


def rounded(value: Decimal) -> int:
    """To the nearest minor unit, halves away from zero."""
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def line_taxes(amount: int, rates: list[Record]) -> list[dict[str, Any]]:
    """The ``taxes`` of a line of ``amount`` minor units under ``rates`` (in their order)."""
    inclusive_sum = sum((percentage_of(r) for r in rates if r["inclusive"]), Decimal(0))
    carved = {
        r["id"]: rounded(Decimal(amount) * percentage_of(r) / (HUNDRED + inclusive_sum))
        for r in rates
        if r["inclusive"]
    }
    net = amount - sum(carved.values())
    taxes: list[dict[str, Any]] = []
    for rate in rates:
        if rate["inclusive"]:
            tax = carved[rate["id"]]
        else:
            tax = rounded(Decimal(net) * percentage_of(rate) / HUNDRED)
        taxes.append(_entry(tax, rate, net))
    return taxes


def total_taxes(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The invoice's ``total_taxes``: the lines' taxes summed per rate, first seen first."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for line in lines:
        for tax in line.get("taxes") or []:
            key = (tax["tax_rate_details"]["tax_rate"], tax["tax_behavior"])
            total = totals.get(key)
            if total is None:
                totals[key] = {**tax, "tax_rate_details": dict(tax["tax_rate_details"])}
            else:
                total["amount"] += tax["amount"]
                total["taxable_amount"] += tax["taxable_amount"]
    return list(totals.values())


def apply_totals(invoice: Record, lines: list[dict[str, Any]]) -> None:
    """Set the invoice's amounts from its taxed lines (``amount_paid`` is kept)."""
    subtotal = sum(line["amount"] for line in lines)
    totals = total_taxes(lines)
    inclusive = sum(t["amount"] for t in totals if t["tax_behavior"] == "inclusive")
    exclusive = sum(t["amount"] for t in totals if t["tax_behavior"] == "exclusive")
    invoice["subtotal"] = subtotal
    invoice["subtotal_excluding_tax"] = subtotal - inclusive
    invoice["total_excluding_tax"] = subtotal - inclusive
    invoice["total"] = subtotal + exclusive
    invoice["total_taxes"] = totals
    invoice["amount_due"] = max(0, invoice["total"])
    invoice["amount_remaining"] = max(0, invoice["amount_due"] - invoice["amount_paid"])


def _entry(tax: int, rate: Record, taxable: int) -> dict[str, Any]:
    return {
        "amount": tax,
        "tax_behavior": "inclusive" if rate["inclusive"] else "exclusive",
        "tax_rate_details": {"tax_rate": rate["id"]},
        "taxability_reason": MANUAL_REASON,
        "taxable_amount": taxable,
        "type": "tax_rate_details",
    }
