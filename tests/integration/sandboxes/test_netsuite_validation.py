"""NetSuite sandbox: the 4xx answers a client gets for data NetSuite refuses."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.netsuite import (
    DEFAULT_BEARER_TOKEN,
    DEFAULT_ESTATE,
    RequiredDimension,
    create_app,
)

AUTH = {"Authorization": f"Bearer {DEFAULT_BEARER_TOKEN}"}
REC = "/services/rest/record/v1"


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with (
        serve(create_app(approval_delay_s=0)) as base,
        httpx.Client(base_url=base, headers=AUTH, timeout=10) as client,
    ):
        yield client


@pytest.fixture
def ns(client: httpx.Client) -> httpx.Client:
    client.post("/_sandbox/reset")
    return client


def new_customer(ns: httpx.Client, subsidiary: str = "2", **fields: Any) -> str:
    body = {"companyName": "ACME Inc", "subsidiary": {"id": subsidiary}, **fields}
    response = ns.post(f"{REC}/customer", json=body)
    assert response.status_code == 204, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def order(customer: str, **fields: Any) -> dict[str, Any]:
    line = {"item": {"id": "201"}, "quantity": 1, "class": {"id": "100"}}
    return {
        "entity": {"id": customer},
        "department": {"id": "10"},
        "item": {"items": [line]},
        **fields,
    }


def refused(response: httpx.Response) -> dict[str, Any]:
    """The single error detail of a 400 answer in NetSuite's error shape."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.oracle.resource+json; type=error"
    )
    body = response.json()
    assert body["type"] == "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1"
    assert (body["title"], body["status"]) == ("Bad Request", 400)
    assert len(body["o:errorDetails"]) == 1
    detail: dict[str, Any] = body["o:errorDetails"][0]
    return detail


def count(ns: httpx.Client, rtype: str) -> int:
    return int(ns.get("/_sandbox/state").json()["counts"][rtype])


def test_unknown_item_is_refused_with_the_line_path(ns: httpx.Client) -> None:
    cid = new_customer(ns)
    body = order(cid)
    body["item"]["items"].append({"item": {"id": "9999"}, "quantity": 1, "class": {"id": "100"}})

    detail = refused(ns.post(f"{REC}/salesOrder", json=body))

    assert detail == {
        "detail": "Error while accessing a resource. You have entered an Invalid Field Value "
        "9999 for the following field: item",
        "o:errorCode": "INVALID_CONTENT",
        "o:errorPath": "item.items[1].item",
    }
    assert count(ns, "salesOrder") == 0


def test_item_not_sold_in_the_subsidiary_is_an_invalid_field_value(ns: httpx.Client) -> None:
    parent_customer = new_customer(ns, subsidiary="1")
    body = order(parent_customer)

    detail = refused(ns.post(f"{REC}/salesOrder", json=body))

    assert detail["o:errorPath"] == "item.items[0].item"


def test_missing_department_in_an_operating_subsidiary_is_a_user_error(ns: httpx.Client) -> None:
    cid = new_customer(ns, subsidiary="3", currency={"id": "2"})
    body = order(cid)
    del body["department"]

    detail = refused(ns.post(f"{REC}/salesOrder", json=body))

    assert detail["o:errorCode"] == "USER_ERROR"
    assert (
        detail["detail"]
        == "Error while accessing a resource. Please enter value(s) for: Department"
    )
    assert detail["o:errorPath"] == "department"


def test_missing_class_on_a_line_names_the_line(ns: httpx.Client) -> None:
    cid = new_customer(ns)
    body = order(cid)
    body["item"]["items"].append({"item": {"id": "203"}, "quantity": 2})

    detail = refused(ns.post(f"{REC}/salesOrder", json=body))

    assert detail["detail"].endswith("Please enter value(s) for: Class")
    assert detail["o:errorPath"] == "item.items[1].class"


def test_order_subsidiary_must_be_the_customers(ns: httpx.Client) -> None:
    cid = new_customer(ns, subsidiary="2")

    detail = refused(ns.post(f"{REC}/salesOrder", json=order(cid, subsidiary={"id": "4"})))

    assert detail == {
        "detail": "Invalid value for the resource or sub-resource field 'subsidiary'. "
        "Provide a valid value.",
        "o:errorCode": "INVALID_VALUE",
        "o:errorPath": "subsidiary",
    }


def test_currency_not_allowed_for_the_subsidiary_is_invalid_value(ns: httpx.Client) -> None:
    cid = new_customer(ns, subsidiary="4")  # Acme Cloud GmbH trades in EUR only

    detail = refused(ns.post(f"{REC}/salesOrder", json=order(cid, currency={"id": "2"})))

    assert (detail["o:errorCode"], detail["o:errorPath"]) == ("INVALID_VALUE", "currency")


def test_unknown_field_is_ignored_with_a_warning_by_default(ns: httpx.Client) -> None:
    response = ns.post(
        f"{REC}/customer",
        json={"companyName": "ACME", "subsidiary": {"id": "2"}, "favouriteColour": "teal"},
    )

    assert response.status_code == 204
    assert "favouriteColour" in response.headers["warning"]
    record = ns.get(response.headers["location"]).json()
    assert "favouriteColour" not in record


def test_unknown_field_is_refused_when_name_validation_is_error(ns: httpx.Client) -> None:
    response = ns.post(
        f"{REC}/customer",
        json={"companyName": "ACME", "subsidiary": {"id": "2"}, "favouriteColour": "teal"},
        headers={"X-NetSuite-PropertyNameValidation": "Error"},
    )

    detail = refused(response)
    assert (detail["o:errorCode"], detail["o:errorPath"]) == ("INVALID_CONTENT", "favouriteColour")
    assert count(ns, "customer") == 0


def test_field_names_are_case_insensitive_and_custom_fields_are_kept(ns: httpx.Client) -> None:
    cid = new_customer(ns, custentity_sf_account_id="001xx")

    record = ns.get(f"{REC}/customer/{cid}").json()
    assert ns.patch(f"{REC}/customer/{cid}", json={"EMAIL": "a@b.example"}).status_code == 204

    assert record["custentity_sf_account_id"] == "001xx"
    assert ns.get(f"{REC}/customer/{cid}").json()["email"] == "a@b.example"


def test_customer_parent_must_be_in_the_same_subsidiary(ns: httpx.Client) -> None:
    parent = new_customer(ns, subsidiary="3", currency={"id": "2"})

    detail = refused(
        ns.post(
            f"{REC}/customer",
            json={"companyName": "Child", "subsidiary": {"id": "2"}, "parent": {"id": parent}},
        )
    )

    assert (detail["o:errorCode"], detail["o:errorPath"]) == ("USER_ERROR", "parent")
    assert new_customer(ns, subsidiary="3", parent={"id": parent})


def test_customer_without_company_name_or_subsidiary_is_refused(ns: httpx.Client) -> None:
    detail = refused(ns.post(f"{REC}/customer", json={"email": "x@y.example"}))

    assert detail["detail"] == (
        "Error while accessing a resource. Please enter value(s) for: Company Name, Subsidiary"
    )


def test_duplicate_external_id_on_post_is_refused(ns: httpx.Client) -> None:
    new_customer(ns, externalId="SF-1")

    detail = refused(
        ns.post(
            f"{REC}/customer",
            json={"companyName": "B", "subsidiary": {"id": "2"}, "externalId": "SF-1"},
        )
    )

    assert (detail["o:errorCode"], detail["o:errorPath"]) == ("DUP_RCRD", "externalId")
    assert detail["detail"] == "Error while accessing a resource. This record already exists."
    assert count(ns, "customer") == 1


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("quantity", "lots", "item.items[0].quantity"),
        ("rate", True, "item.items[0].rate"),
        ("item", ["201"], "item.items[0].item"),
    ],
)
def test_wrong_value_types_are_invalid_value(
    ns: httpx.Client, field: str, value: Any, path: str
) -> None:
    body = order(new_customer(ns))
    body["item"]["items"][0][field] = value

    detail = refused(ns.post(f"{REC}/salesOrder", json=body))

    assert (detail["o:errorCode"], detail["o:errorPath"]) == ("INVALID_VALUE", path)


def test_bad_date_and_non_object_body_are_refused(ns: httpx.Client) -> None:
    cid = new_customer(ns)

    date_detail = refused(ns.post(f"{REC}/salesOrder", json=order(cid, tranDate="31/12/2024")))
    list_detail = refused(ns.post(f"{REC}/salesOrder", json=[order(cid)]))

    assert date_detail["o:errorPath"] == "tranDate"
    assert list_detail["o:errorCode"] == "INVALID_CONTENT"


def test_required_dimensions_are_configurable_per_subsidiary_and_record() -> None:
    estate = dataclasses.replace(
        DEFAULT_ESTATE,
        required_dimensions=(
            RequiredDimension("salesOrder", "location", "header", frozenset({"3"})),
        ),
    )
    with (
        serve(create_app(reference=estate, approval_delay_s=0)) as base,
        httpx.Client(base_url=base, headers=AUTH) as ns,
    ):
        us = new_customer(ns, subsidiary="2")
        uk = new_customer(ns, subsidiary="3", currency={"id": "2"})
        bare = {"item": {"items": [{"item": {"id": "201"}}]}}

        us_order = ns.post(f"{REC}/salesOrder", json={"entity": {"id": us}, **bare})
        uk_order = ns.post(f"{REC}/salesOrder", json={"entity": {"id": uk}, **bare})

    assert us_order.status_code == 204
    assert refused(uk_order)["detail"].endswith("Please enter value(s) for: Location")
