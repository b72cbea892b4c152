"""AvaTax sandbox: bad requests get AvaTax's error body and status, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.avalara import create_app

ACCOUNT = ("1100000001", "TEST-LICENSE-KEY")
CREATE = "/api/v2/transactions/create"
NYC = {"line1": "350 5th Ave", "city": "New York", "region": "NY", "postalCode": "10118"}


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with (
        serve(create_app(credentials=dict([ACCOUNT]))) as url,
        httpx.Client(base_url=url, auth=ACCOUNT, timeout=10) as c,
    ):
        yield c


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "companyCode": "ACME-US",
        "date": "2024-05-01",
        "customerCode": "CUST-1",
        "addresses": {"singleLocation": NYC},
        "lines": [{"amount": 100, "taxCode": "SW054000"}],
    }
    base.update(changes)
    return base


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"code", "message", "target", "details"}
    detail = error["details"][0]
    assert detail["code"] == error["code"]
    assert detail["helpLink"] == "http://developer.avalara.com/avatax/errors/" + error["code"]
    assert {"number", "message", "description", "faultCode", "severity"} <= set(detail)
    return error


def test_incomplete_address_is_invalid_address_309(client: httpx.Client) -> None:
    address = {"line1": "1 Nowhere Rd", "country": "US"}
    response = client.post(CREATE, json=body(addresses={"singleLocation": address}))
    error = error_of(response, 400)
    detail = error["details"][0]
    assert (error["code"], detail["number"], error["target"]) == (
        "InvalidAddress",
        309,
        "IncorrectData",
    )
    assert detail["refersTo"] == "Addresses[0]"
    assert "line1 + city + region" in detail["description"]


@pytest.mark.parametrize(
    "address",
    [
        {"city": "Nowhere", "country": "ZZ"},
        {"line1": "1 Casino Way", "city": "Reno", "region": "NV", "postalCode": "89501"},
        {"postalCode": "89501"},
    ],
)
def test_destination_outside_the_rate_table_is_jurisdiction_not_found_130(
    client: httpx.Client, address: dict[str, str]
) -> None:
    response = client.post(CREATE, json=body(addresses={"shipFrom": NYC, "shipTo": address}))
    error = error_of(response, 400)
    assert (error["code"], error["details"][0]["number"]) == ("JurisdictionNotFoundError", 130)
    assert error["message"] == "Unable to determine the taxing jurisdictions."


def test_postal_code_alone_locates_a_us_state(client: httpx.Client) -> None:
    response = client.post(CREATE, json=body(addresses={"singleLocation": {"postalCode": "10118"}}))
    assert response.status_code == 201
    assert response.json()["region"] == "NY"


def test_missing_ship_to_is_missing_address_304(client: httpx.Client) -> None:
    response = client.post(CREATE, json=body(addresses={"shipFrom": NYC}))
    assert error_of(response, 400)["details"][0]["number"] == 304


@pytest.mark.parametrize("lines", [[], None])
def test_no_lines_is_missing_line_311(client: httpx.Client, lines: Any) -> None:
    error = error_of(client.post(CREATE, json=body(lines=lines)), 400)
    assert (error["code"], error["details"][0]["number"]) == ("MissingLine", 311)


def test_missing_customer_code_and_date_are_value_required_errors(client: httpx.Client) -> None:
    payload = body()
    del payload["customerCode"], payload["date"]
    error = error_of(client.post(CREATE, json=payload), 400)
    assert error["code"] == "ValueRequiredError"
    assert [d["refersTo"] for d in error["details"]] == ["customerCode", "date"]
    assert {d["number"] for d in error["details"]} == {5}


def test_line_without_amount_is_a_value_required_error(client: httpx.Client) -> None:
    error = error_of(client.post(CREATE, json=body(lines=[{"taxCode": "P0000000"}])), 400)
    assert error["details"][0]["refersTo"] == "lines[0].amount"


def test_unknown_company_is_entity_not_found_404(client: httpx.Client) -> None:
    error = error_of(client.post(CREATE, json=body(companyCode="NOPE")), 404)
    assert (error["code"], error["details"][0]["number"]) == ("EntityNotFoundError", 4)


def test_unparseable_json_is_a_json_format_error(client: httpx.Client) -> None:
    response = client.post(
        CREATE, content=b'{"lines": [', headers={"Content-Type": "application/json"}
    )
    error = error_of(response, 400)
    assert (error["code"], error["details"][0]["number"]) == ("JsonFormatError", 47)


@pytest.mark.parametrize("content", [b"", b"null", b"[1, 2]", b'"text"'])
def test_missing_model_is_model_required_exception_38(client: httpx.Client, content: bytes) -> None:
    response = client.post(CREATE, content=content, headers={"Content-Type": "application/json"})
    error = error_of(response, 400)
    assert (error["code"], error["details"][0]["number"]) == ("ModelRequiredException", 38)


@pytest.mark.parametrize(
    ("change", "refers_to"),
    [
        ({"lines": [{"amount": "ten"}]}, "lines[0].amount"),
        ({"lines": [{"amount": 1e30}]}, "lines[0].amount"),
        ({"type": "Invoice"}, "type"),
        ({"date": "yesterday"}, "date"),
        ({"commit": "maybe"}, "commit"),
        ({"addresses": ["NYC"]}, "addresses"),
    ],
)
def test_wrong_value_types_are_model_state_invalid(
    client: httpx.Client, change: dict[str, Any], refers_to: str
) -> None:
    error = error_of(client.post(CREATE, json=body(**change)), 400)
    assert (error["code"], error["details"][0]["refersTo"]) == ("ModelStateInvalid", refers_to)


def test_unknown_fields_are_ignored_and_names_match_case_insensitively(
    client: httpx.Client,
) -> None:
    payload = {
        "CompanyCode": "ACME-US",
        "DATE": "2024-05-01T00:00:00Z",
        "customercode": 42,
        "Addresses": {"SingleLocation": NYC},
        "Lines": [{"Amount": "100.00", "TaxCode": "SW054000", "quantity": "2"}],
        "commit": "true",
        "type": 1,
        "somethingNew": {"nested": True},
    }
    response = client.post(CREATE, json=payload)
    assert response.status_code == 201, response.text
    tx = response.json()
    assert (tx["type"], tx["status"], tx["customerCode"]) == ("SalesInvoice", "Committed", "42")
    assert (tx["lines"][0]["quantity"], tx["totalTax"]) == (2, 8.88)


def test_unknown_route_is_a_plain_404(client: httpx.Client) -> None:
    response = client.get("/api/v2/nothing-here")
    assert (response.status_code, response.content) == (404, b"")
