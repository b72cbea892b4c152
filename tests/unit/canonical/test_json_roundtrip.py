"""Every canonical model survives a trip through JSON unchanged."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from revbridge.canonical.money import Money
from revbridge.testing.factories import uk_subscription_order
from revbridge.testing.strategies import (
    addresses,
    business_events,
    contracts,
    customers,
    decimals,
    external_refs,
    invoices,
    legal_entities,
    money,
    orders,
    payments,
    products,
)

STRATEGIES: dict[str, st.SearchStrategy[BaseModel]] = {
    "Money": money(),
    "ExternalRef": external_refs(),
    "Address": addresses(),
    "Customer": customers(),
    "LegalEntity": legal_entities(),
    "Product": products(),
    "Contract": contracts(),
    "Order": orders(),
    "Invoice": invoices(),
    "Payment": payments(),
    "BusinessEvent": business_events(),
}


def assert_round_trips(model: BaseModel) -> None:
    text = model.model_dump_json()
    again = type(model).model_validate_json(text)
    assert again == model
    assert again.model_dump_json() == text  # byte-identical the second time


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_model_round_trips_through_json(name: str, data: st.DataObject) -> None:
    model = data.draw(STRATEGIES[name])
    assert type(model).__name__ == name
    assert_round_trips(model)


@given(amount=decimals())
@settings(max_examples=100, deadline=None)
def test_money_keeps_every_digit_and_the_exponent_of_its_value(amount: Decimal) -> None:
    money_ = Money(amount=amount, currency="BHD")
    again = Money.model_validate_json(money_.model_dump_json())
    assert again.amount == amount
    assert again.amount.as_tuple().exponent == min(amount.as_tuple().exponent, 0)


def test_the_realistic_order_round_trips() -> None:
    order = uk_subscription_order()
    assert_round_trips(order)
    document = json.loads(order.model_dump_json())
    assert document["total"] == {"amount": "17250.00", "currency": "GBP"}
    assert document["lines"][2]["unit_price"] == {"amount": "0.0125", "currency": "GBP"}
