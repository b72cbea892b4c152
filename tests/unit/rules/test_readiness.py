"""The readiness rules: what stops a closed-won deal from becoming an order, and who fixes it.

Each rule returns findings (never raises); a finding's failure class is
``validation.<rule>``. ``plan`` runs them all: the routed order plan, or every finding.
The example policy sells through ACME-US (USD; nexus in NY, WA, TX, PA, CA), ACME-UK
(GBP; GB) and ACME-DE (EUR; DE, also booking AT and CH); anything else defaults to ACME-US.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from revbridge.canonical import (
    Address,
    BillingFrequency,
    Contract,
    Customer,
    ExternalRef,
    Money,
    Order,
    OrderLine,
    ProductKind,
)
from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.load import load_policy
from revbridge.config.policy import Policy
from revbridge.ports import OrderPlan
from revbridge.rules.readiness import (
    Deal,
    Finding,
    address,
    billing,
    contract_dates,
    customer_hierarchy,
    jurisdiction,
    legal_entity,
    plan,
    product_mapping,
    tax_nexus,
)

EXAMPLE = EXAMPLE_POLICY

NEW_YORK = Address(line1="1 Main St", city="Albany", region="NY", postal_code="12207", country="US")
FLORIDA = Address(line1="2 Ocean Dr", city="Miami", region="FL", postal_code="33139", country="US")
LONDON = Address(line1="10 Downing St", city="London", postal_code="SW1A 2AA", country="GB")
BERLIN = Address(line1="Unter den Linden 1", city="Berlin", postal_code="10117", country="DE")
VIENNA = Address(line1="Ring 1", city="Wien", postal_code="1010", country="AT")
ZURICH = Address(line1="Bahnhofstr. 1", city="Zürich", postal_code="8001", country="CH")
PARIS = Address(line1="1 Rue de Rivoli", city="Paris", postal_code="75001", country="FR")
ONE_YEAR = Contract(
    start_date=date(2026, 1, 1),
    end_date=date(2026, 12, 31),
    term_months=12,
    billing_frequency=BillingFrequency.ANNUAL,
)
PRICES = {"SUB-PLATFORM-ANNUAL": "9600.00", "SVC-TRAINING": "2000.00", "USG-API-CALLS": "1.60"}


@pytest.fixture(scope="module")
def example() -> Policy:
    return load_policy(EXAMPLE)


def _customer(
    billing_address: Address | None = LONDON,
    *,
    shipping: Address | None = None,
    currency: str = "GBP",
    customer_id: str = "c1",
    parent_id: str | None = None,
    name: str = "Umbrella",
) -> Customer:
    return Customer(
        customer_id=customer_id,
        name=name,
        parent_id=parent_id,
        billing_address=billing_address,
        shipping_address=shipping,
        currency=currency,
    )


def _line(
    sku: str = "SUB-PLATFORM-ANNUAL",
    kind: ProductKind = ProductKind.SUBSCRIPTION,
    currency: str = "GBP",
    line_id: str = "l1",
) -> OrderLine:
    return OrderLine.priced(
        line_id=line_id,
        sku=sku,
        kind=kind,
        quantity=Decimal("1"),
        unit_price=Money.of(PRICES.get(sku, "100.00"), currency),
    )


def _order(
    customer: Customer,
    lines: tuple[OrderLine, ...] | None = None,
    contract: Contract | None = ONE_YEAR,
) -> Order:
    currency = str(customer.currency)
    return Order(
        order_id="o1",
        source=ExternalRef(system="salesforce", id="006A0000001"),
        customer=customer,
        currency=currency,
        lines=(_line(currency=currency),) if lines is None else lines,
        contract=contract,
        correlation_id="corr-1",
    )


def _deal(
    customer: Customer | None = None,
    lines: tuple[OrderLine, ...] | None = None,
    contract: Contract | None = ONE_YEAR,
) -> Deal:
    customer = customer or _customer()
    return Deal(_order(customer, lines, contract), (customer,))


def _only(findings: list[Finding], rule: str) -> str:
    """The one finding's message, after checking it is the rule's failure class."""
    assert [f.failure_class for f in findings] == [f"validation.{rule}"]
    return findings[0].message


# -- customer_hierarchy ----------------------------------------------------------------


def test_a_parent_listed_before_its_child_passes(example: Policy) -> None:
    parent = _customer(customer_id="p1", name="Umbrella Group")
    child = _customer(customer_id="c1", parent_id="p1", name="Umbrella UK")
    deal = Deal(_order(child), (parent, child))
    assert customer_hierarchy(deal, example) == []


def test_a_deal_whose_account_is_not_last_in_its_hierarchy_is_a_hierarchy_finding(
    example: Policy,
) -> None:
    other = _customer(customer_id="c2", name="Someone else")
    message = _only(
        customer_hierarchy(Deal(_order(_customer()), (other,)), example), "customer_hierarchy"
    )
    assert "account is missing from its hierarchy" in message


def test_an_empty_hierarchy_is_a_hierarchy_finding(example: Policy) -> None:
    message = _only(
        customer_hierarchy(Deal(_order(_customer()), ()), example), "customer_hierarchy"
    )
    assert "missing from its hierarchy" in message


def test_a_parent_that_could_not_be_read_is_named_in_the_finding(example: Policy) -> None:
    child = _customer(parent_id="p404", name="Umbrella UK")
    findings = customer_hierarchy(Deal(_order(child), (child,)), example)
    message = _only(findings, "customer_hierarchy")
    assert "parent account p404 of Umbrella UK is not readable" in message
    assert "Parent Account in the CRM" in findings[0].guidance


def test_a_parent_listed_after_its_child_is_a_hierarchy_finding(example: Policy) -> None:
    parent = _customer(customer_id="p1", name="Umbrella Group")
    middle = _customer(customer_id="m1", parent_id="p1", name="Umbrella EMEA")
    child = _customer(customer_id="c1", parent_id="m1", name="Umbrella UK")
    deal = Deal(_order(child), (middle, parent, child))  # middle comes before its parent
    assert "parent account p1 of Umbrella EMEA" in _only(
        customer_hierarchy(deal, example), "customer_hierarchy"
    )


# -- address ---------------------------------------------------------------------------


def test_an_account_without_a_billing_address_is_an_address_finding(example: Policy) -> None:
    findings = address(_deal(_customer(None, name="Umbrella")), example)
    assert "account Umbrella has no billing address" in _only(findings, "address")
    assert "billing street, city and country" in findings[0].guidance


def test_a_us_address_without_a_state_is_an_address_finding(example: Policy) -> None:
    no_state = NEW_YORK.model_copy(update={"region": None})
    findings = address(_deal(_customer(no_state, currency="USD")), example)
    message = _only(findings, "address")
    assert "in US has no state/province" in message
    assert "tax jurisdiction is unknown" in message


def test_a_canadian_address_without_a_province_is_an_address_finding(example: Policy) -> None:
    toronto = Address(line1="1 Yonge St", city="Toronto", postal_code="M5E 1E5", country="CA")
    assert "in CA has no state/province" in _only(
        address(_deal(_customer(toronto, currency="USD")), example), "address"
    )


def test_a_us_address_with_state_and_city_but_no_postal_code_passes(example: Policy) -> None:
    # AvaTax places an address by line1 + city + region as well as by postal code.
    no_zip = NEW_YORK.model_copy(update={"postal_code": None})
    assert address(_deal(_customer(no_zip, currency="USD")), example) == []


def test_a_uk_address_needs_no_region(example: Policy) -> None:
    assert address(_deal(_customer(LONDON)), example) == []


def test_the_shipping_address_is_the_one_checked_for_a_state(example: Policy) -> None:
    shipped_to_us = NEW_YORK.model_copy(update={"region": None})
    customer = _customer(LONDON, shipping=shipped_to_us)
    assert "in US has no state/province" in _only(address(_deal(customer), example), "address")


# -- legal_entity ----------------------------------------------------------------------


def test_a_billing_country_no_rule_routes_is_a_legal_entity_finding(example: Policy) -> None:
    no_default = example.model_copy(
        update={"routing": example.routing.model_copy(update={"default": None})}
    )
    findings = legal_entity(_deal(_customer(PARIS, currency="EUR")), no_default)
    assert "no legal entity sells to billing country FR" in _only(findings, "legal_entity")
    assert "routing rule" in findings[0].guidance


def test_the_example_default_entity_takes_countries_outside_the_markets(example: Policy) -> None:
    assert legal_entity(_deal(_customer(PARIS, currency="EUR")), example) == []


def test_a_missing_billing_address_is_left_to_the_address_rule(example: Policy) -> None:
    no_default = example.model_copy(
        update={"routing": example.routing.model_copy(update={"default": None})}
    )
    assert legal_entity(_deal(_customer(None)), no_default) == []


# -- tax_nexus -------------------------------------------------------------------------


def test_a_customer_in_a_state_where_the_entity_collects_tax_passes(example: Policy) -> None:
    assert tax_nexus(_deal(_customer(NEW_YORK, currency="USD")), example) == []


def test_a_customer_in_a_state_without_nexus_is_a_tax_nexus_finding(example: Policy) -> None:
    findings = tax_nexus(_deal(_customer(FLORIDA, currency="USD")), example)
    assert "ACME-US has no tax nexus in US-FL" in _only(findings, "tax_nexus")
    assert "register for tax in US-FL" in findings[0].guidance


def test_the_entity_comes_from_the_billing_address_and_the_tax_from_the_shipping_one(
    example: Policy,
) -> None:
    customer = _customer(NEW_YORK, shipping=FLORIDA, currency="USD")
    assert "ACME-US has no tax nexus in US-FL" in _only(
        tax_nexus(_deal(customer), example), "tax_nexus"
    )


def test_an_austrian_customer_booked_by_the_german_entity_needs_austrian_nexus(
    example: Policy,
) -> None:
    customer = _customer(VIENNA, currency="EUR")
    assert "ACME-DE has no tax nexus in AT" in _only(
        tax_nexus(_deal(customer), example), "tax_nexus"
    )


def test_an_entity_with_no_nexus_recorded_is_a_tax_nexus_finding(example: Policy) -> None:
    uk = example.legal_entities["ACME-UK"].model_copy(update={"tax_nexus": []})
    policy = example.model_copy(
        update={"legal_entities": {**example.legal_entities, "ACME-UK": uk}}
    )
    assert "ACME-UK has no tax nexus data" in _only(
        tax_nexus(_deal(_customer(LONDON)), policy), "tax_nexus"
    )


def test_an_incomplete_address_is_reported_once_by_the_address_rule(example: Policy) -> None:
    no_state = FLORIDA.model_copy(update={"region": None})
    assert tax_nexus(_deal(_customer(no_state, currency="USD")), example) == []


def test_a_province_in_the_entitys_nexus_covers_a_customer_there(example: Policy) -> None:
    quebec = Address(line1="1 Rue St-Paul", city="Montréal", region="QC", country="CA")
    ca = example.legal_entities["ACME-US"].model_copy(
        update={"country": "CA", "functional_currency": "CAD", "tax_nexus": ["CA-QC"]}
    )
    policy = example.model_copy(
        update={"legal_entities": {**example.legal_entities, "ACME-US": ca}}
    )
    assert tax_nexus(_deal(_customer(quebec, currency="CAD")), policy) == []


# -- product_mapping -------------------------------------------------------------------


def test_mapped_products_sold_as_mapped_pass(example: Policy) -> None:
    lines = (_line(), _line("SVC-TRAINING", ProductKind.SERVICE, line_id="l2"))
    assert product_mapping(_deal(lines=lines), example) == []


def test_an_unmapped_product_is_a_product_mapping_finding(example: Policy) -> None:
    lines = (_line("SUB-UNKNOWN"),)
    findings = product_mapping(_deal(lines=lines), example)
    assert "product SUB-UNKNOWN has no ERP/billing mapping" in _only(findings, "product_mapping")


def test_a_product_sold_as_another_kind_than_mapped_is_a_product_mapping_finding(
    example: Policy,
) -> None:
    lines = (_line("SVC-TRAINING", ProductKind.SUBSCRIPTION),)
    message = _only(product_mapping(_deal(lines=lines), example), "product_mapping")
    assert "SVC-TRAINING is sold as subscription but mapped as service" in message


def test_every_bad_line_is_reported(example: Policy) -> None:
    lines = (_line("SUB-A", line_id="l1"), _line("SUB-B", line_id="l2"))
    findings = product_mapping(_deal(lines=lines), example)
    assert [f.message for f in findings] == [
        "product SUB-A has no ERP/billing mapping",
        "product SUB-B has no ERP/billing mapping",
    ]


# -- contract_dates --------------------------------------------------------------------


def test_a_subscription_without_contract_dates_is_a_contract_dates_finding(
    example: Policy,
) -> None:
    findings = contract_dates(_deal(contract=None), example)
    assert "subscription sold without contract dates" in _only(findings, "contract_dates")


def test_usage_without_contract_dates_is_a_contract_dates_finding(example: Policy) -> None:
    lines = (_line("USG-API-CALLS", ProductKind.USAGE),)
    assert "without contract dates" in _only(
        contract_dates(_deal(lines=lines, contract=None), example), "contract_dates"
    )


def test_services_alone_need_no_contract(example: Policy) -> None:
    lines = (_line("SVC-TRAINING", ProductKind.SERVICE),)
    assert contract_dates(_deal(lines=lines, contract=None), example) == []


@pytest.mark.parametrize("end", [date(2025, 12, 31), date(2026, 1, 1)])
def test_a_contract_ending_on_or_before_its_start_is_a_contract_dates_finding(
    example: Policy, end: date
) -> None:
    contract = ONE_YEAR.model_copy(update={"end_date": end})
    message = _only(contract_dates(_deal(contract=contract), example), "contract_dates")
    assert f"contract ends {end} on or before it starts 2026-01-01" in message


def test_a_contract_ending_after_it_starts_passes(example: Policy) -> None:
    assert contract_dates(_deal(), example) == []


# -- billing ---------------------------------------------------------------------------


def test_a_deal_without_products_is_a_billing_finding(example: Policy) -> None:
    assert "the deal has no products" in _only(billing(_deal(lines=()), example), "billing")


def test_a_deal_in_another_currency_than_its_entity_bills_in_is_a_billing_finding(
    example: Policy,
) -> None:
    customer = _customer(LONDON, currency="USD")
    message = _only(billing(_deal(customer), example), "billing")
    assert "ACME-UK bills in GBP, the deal is in USD" in message


def test_a_swiss_deal_in_francs_is_refused_for_the_entity_and_each_price(
    example: Policy,
) -> None:
    customer = _customer(ZURICH, currency="CHF")
    findings = billing(_deal(customer), example)
    assert [f.message for f in findings] == [
        "ACME-DE bills in EUR, the deal is in CHF",
        "SUB-PLATFORM-ANNUAL has no price in CHF",
    ]
    assert {f.failure_class for f in findings} == {"validation.billing"}


def test_a_deal_in_the_entitys_currency_with_mapped_prices_passes(example: Policy) -> None:
    assert billing(_deal(_customer(BERLIN, currency="EUR")), example) == []


# -- plan ------------------------------------------------------------------------------


def test_a_ready_deal_becomes_a_plan_routed_to_its_entity(example: Policy) -> None:
    parent = _customer(customer_id="p1", name="Umbrella Group")
    child = _customer(customer_id="c1", parent_id="p1", name="Umbrella UK")
    order = _order(child)
    result = plan(order, (parent, child), example)
    assert isinstance(result, OrderPlan)
    assert result.entity.code == "ACME-UK"
    assert result.entity.currency == "GBP"
    assert result.entity.erp_subsidiary == "3"
    assert result.entity.tax_company_code == "ACME-UK"
    assert result.order.legal_entity == "ACME-UK"
    assert result.order.customer.legal_entity == "ACME-UK"
    assert [c.legal_entity for c in result.hierarchy] == ["ACME-UK", "ACME-UK"]
    assert order.legal_entity is None  # the order given is not changed


def test_a_plan_maps_each_line_to_its_erp_item_billing_price_and_tax_code(
    example: Policy,
) -> None:
    result = plan(_order(_customer()), (_customer(),), example)
    assert isinstance(result, OrderPlan)
    mapping = result.lines["l1"]
    assert mapping.erp_item == "SUB-PLATFORM-ANNUAL"
    assert mapping.erp_class == "100"
    assert mapping.price_lookup_key == "sub-platform-annual"
    assert mapping.interval == "year"
    assert mapping.tax_code == "SW054000"


def test_a_deal_with_several_problems_gets_every_finding_at_once(example: Policy) -> None:
    customer = _customer(FLORIDA, currency="USD")
    order = _order(customer, lines=(_line("SUB-UNKNOWN", currency="USD"),), contract=None)
    result = plan(order, (customer,), example)
    assert isinstance(result, list)
    assert [f.failure_class for f in result] == [
        "validation.tax_nexus",
        "validation.product_mapping",
        "validation.contract_dates",
    ]


def test_every_finding_goes_to_the_owner_the_example_policy_names(example: Policy) -> None:
    customer = _customer(FLORIDA, currency="GBP")
    order = _order(customer, contract=None)
    result = plan(order, (customer,), example)
    assert isinstance(result, list)
    owners = {f.rule: example.exceptions.owner_for(f.failure_class) for f in result}
    assert owners == {
        "tax_nexus": "finance_ops",
        "contract_dates": "sales_ops",
        "billing": "finance_ops",
    }


# -- jurisdiction ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("billing_address", "shipping", "place"),
    [
        (NEW_YORK, None, "US-NY"),
        (LONDON, None, "GB"),
        (BERLIN, None, "DE"),
        (LONDON, FLORIDA, "US-FL"),
        (NEW_YORK.model_copy(update={"region": None}), None, "US"),
        (None, None, "unknown"),
    ],
    ids=["us-state", "uk", "germany", "shipping-wins", "us-without-state", "no-address"],
)
def test_a_customer_is_taxed_where_it_receives_the_service(
    billing_address: Address | None, shipping: Address | None, place: str
) -> None:
    assert jurisdiction(_customer(billing_address, shipping=shipping)) == place
