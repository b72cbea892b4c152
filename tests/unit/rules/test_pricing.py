"""The pricing rule: a line is booked at the product map's price, within the policy's
tolerance and largest discount; zero and negative lines only where the policy allows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from revbridge.canonical import Customer, ExternalRef, Money, Order, OrderLine, ProductKind
from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.load import load_policy
from revbridge.config.policy import Policy, Pricing
from revbridge.rules.readiness import Deal, pricing

EXAMPLE = EXAMPLE_POLICY
LIST_PRICE = Decimal("9600.00")  # SUB-PLATFORM-ANNUAL in GBP


@pytest.fixture(scope="module")
def example() -> Policy:
    return load_policy(EXAMPLE)


def _policy(example: Policy, **rules: object) -> Policy:
    return example.model_copy(update={"pricing": Pricing.model_validate(rules)})


def _deal(unit_price: str, quantity: str = "1", discount: str | None = None) -> Deal:
    line = OrderLine.priced(
        line_id="l1",
        sku="SUB-PLATFORM-ANNUAL",
        kind=ProductKind.SUBSCRIPTION,
        quantity=Decimal(quantity),
        unit_price=Money.of(unit_price, "GBP"),
        discount=None if discount is None else Money.of(discount, "GBP"),
    )
    customer = Customer(customer_id="c1", name="Umbrella UK", currency="GBP")
    order = Order(
        order_id="o1",
        source=ExternalRef(system="cpq", id="o1"),
        customer=customer,
        currency="GBP",
        lines=(line,),
        correlation_id="corr-1",
    )
    return Deal(order, (customer,))


def _messages(deal: Deal, policy: Policy) -> list[str]:
    return [finding.message for finding in pricing(deal, policy)]


def test_a_line_at_the_map_price_passes(example: Policy) -> None:
    assert pricing(_deal("9600.00", quantity="3"), _policy(example)) == []


@pytest.mark.parametrize("price", ["-9600.00", "0.00", "1.00", "9700.00"])
def test_negative_zero_and_off_price_lines_are_findings_by_default(
    example: Policy, price: str
) -> None:
    findings = pricing(_deal(price), _policy(example))
    assert [f.failure_class for f in findings] == ["validation.pricing"]


def test_a_negative_line_says_it_is_below_zero(example: Policy) -> None:
    assert _messages(_deal("-9600.00"), _policy(example)) == [
        "SUB-PLATFORM-ANNUAL is priced below zero (-9600.00 GBP)"
    ]


def test_an_off_price_line_names_the_map_price_and_the_allowed_discount(example: Policy) -> None:
    (message,) = _messages(_deal("1.00"), _policy(example, max_discount_percent="20"))
    assert "99.99 % below its price of 9600.00 GBP" in message
    assert "discounts up to 20 %" in message


def test_credit_and_zero_lines_pass_only_where_the_policy_allows_them(example: Policy) -> None:
    allowed = _policy(example, allow_credit_lines=True, allow_zero_lines=True)
    assert pricing(_deal("-9600.00"), allowed) == []
    assert pricing(_deal("0.00"), allowed) == []


def test_a_discount_within_the_policy_passes_and_beyond_it_is_a_finding(example: Policy) -> None:
    policy = _policy(example, max_discount_percent="20")
    assert pricing(_deal("9600.00", discount="1920.00"), policy) == []  # exactly 20 %
    assert pricing(_deal("7680.00"), policy) == []  # 20 % off by the unit price
    assert len(pricing(_deal("9600.00", discount="1920.01"), policy)) == 1


def test_the_tolerance_covers_a_price_book_a_cent_off_either_way(example: Policy) -> None:
    policy = _policy(example, tolerance_percent="0.01")
    assert pricing(_deal("9600.96"), policy) == []
    assert pricing(_deal("9599.04"), policy) == []
    assert len(pricing(_deal("9600.97"), policy)) == 1


def test_a_quantity_of_zero_or_less_is_a_finding(example: Policy) -> None:
    assert _messages(_deal("9600.00", quantity="0"), _policy(example)) == [
        "SUB-PLATFORM-ANNUAL is sold in quantity 0"
    ]


def test_the_example_policy_routes_pricing_findings_to_sales_ops(example: Policy) -> None:
    assert example.exceptions.owner_for("validation.pricing") == "sales_ops"
    assert example.pricing.max_discount_percent == Decimal("20")
    assert example.products["SUB-PLATFORM-ANNUAL"].billing.prices["GBP"] == LIST_PRICE
