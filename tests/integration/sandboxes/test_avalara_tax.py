"""AvaTax sandbox: tax amounts, details and summaries a connector reads, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.avalara import Company, create_app, default_companies

ACCOUNT = ("1100000001", "TEST-LICENSE-KEY")
NYC = {"line1": "350 5th Ave", "city": "New York", "region": "NY", "postalCode": "10118"}
WA = {
    "line1": "100 Ravine Ln NE",
    "city": "Bainbridge Island",
    "region": "WA",
    "postalCode": "98110",
}
LONDON = {"line1": "1 Poultry", "city": "London", "country": "GB", "postalCode": "EC2R 8EJ"}
BERLIN = {"line1": "Unter den Linden 77", "city": "Berlin", "country": "DE", "postalCode": "10117"}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    companies = [
        *default_companies(),
        Company(
            "RESELLER-CO",
            7100009,
            "Reseller Co",
            nexus=("US-NY",),
            exempt_customers=frozenset({"RESELLER-1"}),
        ),
    ]
    with serve(create_app(credentials=dict([ACCOUNT]), companies=companies)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, auth=ACCOUNT, timeout=10) as c:
        c.post("/_sandbox/reset")
        yield c


def estimate(
    company: str, ship_to: dict[str, str], *lines: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "companyCode": company,
        "date": "2024-05-01",
        "customerCode": "CUST-1",
        "addresses": {"shipFrom": WA, "shipTo": ship_to},
        "lines": list(lines),
        **extra,
    }


def create(client: httpx.Client, body: dict[str, Any], include: str | None = None) -> Any:
    params = {"$include": include} if include else None
    response = client.post("/api/v2/transactions/create", json=body, params=params)
    assert response.status_code == 201, response.text
    return response.json()


def test_uk_vat_on_a_12000_gbp_subscription_is_2400(client: httpx.Client) -> None:
    body = estimate("ACME-UK", LONDON, {"amount": 12000.00, "taxCode": "SW054000"})
    body["currencyCode"] = "GBP"
    tx = create(client, body)
    assert (tx["status"], tx["type"], tx["id"], tx["currencyCode"]) == (
        "Temporary",
        "SalesOrder",
        0,
        "GBP",
    )
    assert (tx["totalAmount"], tx["totalTaxable"], tx["totalTax"]) == (12000, 12000, 2400)
    [detail] = tx["lines"][0]["details"]
    assert (detail["country"], detail["jurisCode"]) == ("GB", "GB")
    assert (detail["jurisType"], detail["jurisdictionType"]) == ("CNT", "Country")
    assert (detail["taxType"], detail["rateType"], detail["rate"]) == ("Output", "Standard", 0.2)
    assert tx["summary"] == [
        {
            "country": "GB",
            "region": "GB",
            "jurisType": "Country",
            "jurisCode": "GB",
            "jurisName": "UNITED KINGDOM",
            "taxAuthorityType": 45,
            "stateAssignedNo": "",
            "taxType": "Output",
            "taxSubType": "O",
            "taxName": "Standard",
            "rateType": "Standard",
            "taxable": 12000,
            "rate": 0.2,
            "tax": 2400,
            "taxCalculated": 2400,
            "nonTaxable": 0,
            "exemption": 0,
        }
    ]


def test_german_vat_is_19_percent(client: httpx.Client) -> None:
    tx = create(client, estimate("ACME-DE", BERLIN, {"amount": "999.99", "taxCode": "SC070000"}))
    assert tx["totalTax"] == 190.0  # 999.99 * 0.19 = 189.9981
    assert tx["lines"][0]["details"][0]["jurisName"] == "GERMANY"
    assert tx["currencyCode"] == "EUR"


def test_new_york_city_saas_has_state_city_and_district_details(client: httpx.Client) -> None:
    tx = create(client, estimate("ACME-US", NYC, {"amount": 1000, "taxCode": "SW054000"}))
    details = tx["lines"][0]["details"]
    assert [(d["jurisType"], d["jurisName"], d["rate"], d["tax"]) for d in details] == [
        ("STA", "NEW YORK", 0.04, 40),
        ("CIT", "NEW YORK CITY", 0.045, 45),
        ("STJ", "METROPOLITAN COMMUTER TRANSPORTATION DISTRICT", 0.00375, 3.75),
    ]
    assert [d["taxName"] for d in details] == ["NY STATE TAX", "NY CITY TAX", "NY SPECIAL TAX"]
    assert tx["totalTax"] == 88.75
    assert [row["jurisType"] for row in tx["summary"]] == ["State", "City", "Special"]


def test_california_saas_is_not_taxed_but_goods_are(client: httpx.Client) -> None:
    irvine = {"line1": "2000 Main St", "city": "Irvine", "region": "CA", "postalCode": "92614"}
    tx = create(
        client,
        estimate(
            "ACME-US",
            irvine,
            {"number": "1", "amount": 500, "taxCode": "SW054000"},
            {"number": "2", "amount": 100, "taxCode": "P0000000"},
        ),
    )
    saas, goods = tx["lines"]
    assert (saas["tax"], saas["taxableAmount"], saas["exemptAmount"]) == (0, 0, 500)
    assert saas["isItemTaxable"] is False
    assert saas["details"][0]["nonTaxableType"] == "ProductTaxabilityRule"
    assert goods["tax"] == 7.75  # 6 % state + 0.25 % county + 1.5 % districts
    assert tx["totalTax"] == 7.75


def test_texas_taxes_saas_on_80_percent_of_the_price(client: httpx.Client) -> None:
    austin = {"line1": "1100 Congress Ave", "city": "Austin", "region": "TX", "postalCode": "78701"}
    tx = create(client, estimate("ACME-US", austin, {"amount": 100, "taxCode": "SW054000"}))
    line = tx["lines"][0]
    assert (line["taxableAmount"], line["exemptAmount"], line["tax"]) == (80, 20, 6.6)
    assert line["details"][0]["nonTaxableType"] == "BaseRule"


def test_destination_without_nexus_is_taxed_at_zero_with_a_nexus_rule(
    client: httpx.Client,
) -> None:
    miami = {"line1": "100 Biscayne Blvd", "city": "Miami", "region": "FL", "postalCode": "33132"}
    tx = create(client, estimate("ACME-US", miami, {"amount": 100, "taxCode": "P0000000"}))
    line = tx["lines"][0]
    assert (line["tax"], line["taxableAmount"], line["exemptAmount"]) == (0, 0, 100)
    [detail] = line["details"]
    assert (detail["nonTaxableType"], detail["rate"], detail["nonTaxableAmount"]) == (
        "NexusRule",
        0,
        100,
    )


def test_entity_use_code_exempts_the_whole_document(client: httpx.Client) -> None:
    body = estimate("ACME-US", NYC, {"amount": 250, "taxCode": "SW054000"}, entityUseCode="G")
    tx = create(client, body)
    line = tx["lines"][0]
    assert (tx["totalTax"], tx["totalTaxable"], tx["totalExempt"]) == (0, 0, 250)
    assert (line["exemptAmount"], line["entityUseCode"]) == (250, "G")
    assert all(d["exemptAmount"] == 250 and d["tax"] == 0 for d in line["details"])
    assert tx["summary"][0]["exemption"] == 250


def test_exemption_certificate_on_file_exempts_that_customer_only(client: httpx.Client) -> None:
    body = estimate("RESELLER-CO", NYC, {"amount": 100, "taxCode": "P0000000"})
    assert create(client, dict(body, customerCode="RESELLER-1"))["totalTax"] == 0
    assert create(client, dict(body, customerCode="SOMEONE-ELSE"))["totalTax"] == 8.88


def test_tax_included_amount_is_split_into_net_and_tax(client: httpx.Client) -> None:
    line = {"amount": 120, "taxCode": "SW054000", "taxIncluded": True}
    tx = create(client, estimate("ACME-UK", LONDON, line))
    assert (tx["totalAmount"], tx["totalTax"]) == (100, 20)
    assert tx["lines"][0]["taxIncluded"] is True


def test_return_invoice_with_negative_amount_gives_negative_tax(client: httpx.Client) -> None:
    body = estimate("ACME-UK", LONDON, {"amount": -50, "taxCode": "SW054000"})
    tx = create(client, dict(body, type="ReturnInvoice", code="RET-1"))
    assert (tx["status"], tx["totalTax"]) == ("Saved", -10)


def test_default_include_carries_lines_details_summary_and_addresses(client: httpx.Client) -> None:
    tx = create(client, estimate("ACME-US", NYC, {"amount": 10}))
    assert {"lines", "summary", "addresses"} <= tx.keys()
    assert "details" in tx["lines"][0]
    assert [a["city"] for a in tx["addresses"]] == ["Bainbridge Island", "New York"]


@pytest.mark.parametrize(
    ("include", "lines", "details", "summary", "addresses"),
    [
        ("Lines", True, False, False, False),
        ("Details", True, True, False, False),
        ("SummaryOnly", False, False, True, False),
        ("LinesOnly", True, False, False, False),
        ("Summary,Addresses", True, True, True, True),
    ],
)
def test_include_selects_nested_collections(
    client: httpx.Client, include: str, lines: bool, details: bool, summary: bool, addresses: bool
) -> None:
    tx = create(client, estimate("ACME-US", NYC, {"amount": 10}), include=include)
    assert ("lines" in tx, "summary" in tx, "addresses" in tx) == (lines, summary, addresses)
    if lines:
        assert ("details" in tx["lines"][0]) == details


def test_responses_are_compact_json_like_avatax(client: httpx.Client) -> None:
    response = client.post(
        "/api/v2/transactions/create",
        json=estimate("ACME-US", NYC, {"amount": 10}, type="SalesInvoice", commit=True),
    )
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert '"status":"Committed"' in response.text
