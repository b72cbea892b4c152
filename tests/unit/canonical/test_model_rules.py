"""Structural rules the models enforce, and the business rules they deliberately do not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from revbridge.canonical.catalog import ProductKind
from revbridge.canonical.commerce import Contract, Order, OrderLine, line_amount
from revbridge.canonical.finance import Invoice, Payment, PaymentStatus
from revbridge.canonical.money import Money
from revbridge.canonical.party import Address, Customer, LegalEntity
from revbridge.testing.factories import (
    catalog,
    gbp,
    invoice_for,
    payment_for,
    uk_child_customer,
    uk_legal_entity,
    uk_subscription_order,
)

# ---------------------------------------------------------------- the realistic order


def test_realistic_order_adds_up() -> None:
    order = uk_subscription_order()
    assert [line.kind for line in order.lines] == [
        ProductKind.SUBSCRIPTION,
        ProductKind.SERVICE,
        ProductKind.USAGE,
    ]
    assert {line.sku for line in order.lines} <= catalog().keys()
    assert order.total == gbp("17250.00")
    assert order.tax_total == gbp("3450.00")
    assert order.customer.parent_id == "cus_northwind"
    assert order.customer.billing_address.country == "GB"


def test_tax_total_is_none_until_every_line_is_taxed() -> None:
    untaxed = uk_subscription_order(taxed=False)
    assert untaxed.tax_total is None
    partly = untaxed.model_copy(
        update={"lines": (untaxed.lines[0].model_copy(update={"tax": gbp("1")}),)}
    )
    assert Order.model_validate(partly.model_dump()).tax_total == gbp("1")


def test_stated_totals_must_match_the_lines() -> None:
    document = uk_subscription_order().model_dump(mode="json")
    assert Order.model_validate(document) == uk_subscription_order()
    document["total"] = {"amount": "1.00", "currency": "GBP"}
    with pytest.raises(ValidationError, match="stated total"):
        Order.model_validate(document)


# ---------------------------------------------------------------- business rules are held


def test_an_order_whose_contract_ends_before_it_starts_can_be_held() -> None:
    order = uk_subscription_order()
    assert order.contract is not None
    backwards = order.contract.model_copy(update={"end_date": date(2024, 12, 31)})
    held = Order.model_validate(order.model_dump() | {"contract": backwards.model_dump()})
    assert held.contract is not None
    assert held.contract.end_date < held.contract.start_date


def test_a_line_whose_service_ends_before_it_starts_can_be_held() -> None:
    line = uk_subscription_order().lines[0]
    held = OrderLine.model_validate(line.model_dump() | {"service_end": date(2020, 1, 1)})
    assert held.service_end == date(2020, 1, 1)


def test_an_order_without_lines_can_be_held_and_totals_zero() -> None:
    empty = uk_subscription_order().model_copy(update={"lines": ()})
    assert Order.model_validate(empty.model_dump()).total == gbp("0")


# ---------------------------------------------------------------- structure is enforced


def test_every_line_must_be_in_the_order_currency() -> None:
    order = uk_subscription_order()
    euro_line = OrderLine.priced(
        line_id="9",
        sku="PLAT-ANNUAL",
        kind=ProductKind.SUBSCRIPTION,
        quantity=1,
        unit_price=Money.of("100.00", "EUR"),
    )
    with pytest.raises(ValidationError, match="line 9 is in EUR; the order is in GBP"):
        Order.model_validate(order.model_dump() | {"lines": [*order.lines, euro_line]})


def test_line_ids_are_unique_within_an_order() -> None:
    order = uk_subscription_order()
    with pytest.raises(ValidationError, match="duplicate line_id: 1"):
        Order.model_validate(order.model_dump() | {"lines": [order.lines[0], order.lines[0]]})


def test_line_amount_is_quantity_times_price_rounded_half_up_less_discount() -> None:
    assert line_amount(3, gbp("0.125")) == gbp("0.38")  # 0.375 rounds up
    assert line_amount(Decimal("2.5"), gbp("1.01"), gbp("0.50")) == gbp("2.03")  # 2.525 -> 2.53
    assert line_amount(100_000, gbp("0.0125")) == gbp("1250.00")


def test_a_line_with_an_inconsistent_amount_is_refused() -> None:
    line = uk_subscription_order().lines[1]
    with pytest.raises(ValidationError, match="is not quantity \\* unit price - discount"):
        OrderLine.model_validate(line.model_dump() | {"amount": gbp("4500.00")})


def test_line_money_must_share_one_currency() -> None:
    line = uk_subscription_order().lines[0]
    with pytest.raises(ValidationError, match="tax is in USD"):
        OrderLine.model_validate(line.model_dump() | {"tax": Money.of("1", "USD")})


def test_float_quantity_is_refused() -> None:
    line = uk_subscription_order().lines[0]
    with pytest.raises(ValidationError, match="not an exact amount"):
        OrderLine.model_validate(line.model_dump() | {"quantity": 1.0})


def test_contract_term_is_positive() -> None:
    with pytest.raises(ValidationError):
        Contract(
            start_date=date(2025, 1, 1),
            end_date=date(2025, 12, 31),
            term_months=0,
            billing_frequency="annual",
        )


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Customer.model_validate(uk_child_customer().model_dump() | {"nickname": "NW"})


# ---------------------------------------------------------------- parties


@pytest.mark.parametrize(("code", "hint"), [("UK", "did you mean 'GB'"), ("gb", ""), ("ZZ", "")])
def test_countries_are_iso_3166_alpha2(code: str, hint: str) -> None:
    with pytest.raises(ValidationError, match=f"not an ISO 3166-1 alpha-2 country code.*{hint}"):
        Address(line1="1 High St", city="London", country=code)


def test_region_and_postal_code_are_optional() -> None:
    assert Address(line1="1 Harbour Rd", city="Wan Chai", country="HK").region is None


def test_legal_entity_tax_nexus_names_jurisdictions() -> None:
    entity = LegalEntity.model_validate(
        uk_legal_entity().model_dump() | {"tax_nexus": ["US-NY", "GB", "DE", "CA-QC"]}
    )
    assert entity.tax_nexus == ("US-NY", "GB", "DE", "CA-QC")
    for bad in ("UK", "US-", "us-ny", "XX-NY"):
        with pytest.raises(ValidationError):
            LegalEntity.model_validate(uk_legal_entity().model_dump() | {"tax_nexus": [bad]})


def test_a_customer_cannot_be_its_own_parent() -> None:
    customer = uk_child_customer()
    with pytest.raises(ValidationError, match="own parent"):
        customer.model_validate(customer.model_dump() | {"parent_id": customer.customer_id})


# ---------------------------------------------------------------- finance and instants


def test_invoice_total_is_subtotal_plus_tax_in_one_currency() -> None:
    invoice = invoice_for(uk_subscription_order())
    assert invoice.total == gbp("20700.00")
    assert invoice.due_date == date(2025, 2, 1)
    with pytest.raises(ValidationError, match="is not subtotal"):
        Invoice.model_validate(invoice.model_dump() | {"total": gbp("20000.00")})
    with pytest.raises(ValidationError, match="amount_paid is in USD"):
        Invoice.model_validate(invoice.model_dump() | {"amount_paid": Money.of("0", "USD")})


def test_naive_instants_are_refused() -> None:
    payment = payment_for(invoice_for(uk_subscription_order()))
    with pytest.raises(ValidationError, match="must carry a timezone"):
        Payment.model_validate(payment.model_dump() | {"received_at": datetime(2025, 1, 1)})
    with pytest.raises(ValidationError, match="must carry a timezone"):
        Payment.model_validate_json(
            payment.model_dump_json().replace('"2025-01-28T14:05:00Z"', '"2025-01-28T14:05:00"')
        )


def test_aware_instants_are_normalised_to_utc() -> None:
    payment = payment_for(invoice_for(uk_subscription_order()))
    ist = timezone(timedelta(hours=5, minutes=30))
    moved = Payment.model_validate(
        payment.model_dump() | {"received_at": datetime(2025, 1, 28, 19, 35, tzinfo=ist)}
    )
    assert moved.received_at == datetime(2025, 1, 28, 14, 5, tzinfo=UTC)
    assert moved.received_at is not None
    assert moved.received_at.tzinfo is UTC
    assert moved.status is PaymentStatus.SUCCEEDED
