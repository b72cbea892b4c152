"""NetSuite sandbox: the REST record service over HTTP (create, read, update, upsert...)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.control import Sandbox, SnapshotFile
from revbridge_sandboxes.netsuite import DEFAULT_BEARER_TOKEN, DEFAULT_ITEM_EXTERNAL_IDS, create_app

AUTH = {"Authorization": f"Bearer {DEFAULT_BEARER_TOKEN}"}
REC = "/services/rest/record/v1"
ERROR_TYPE = "application/vnd.oracle.resource+json; type=error"


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    sandbox: Sandbox = create_app(approval_delay_s=0)
    with serve(sandbox) as base, httpx.Client(base_url=base, headers=AUTH, timeout=10) as client:
        yield client


@pytest.fixture
def ns(client: httpx.Client) -> httpx.Client:
    client.post("/_sandbox/reset")
    return client


def customer_body(**fields: Any) -> dict[str, Any]:
    return {
        "companyName": "ACME Inc",
        "email": "ap@acme.example",
        "subsidiary": {"id": "2"},
        **fields,
    }


def create(ns: httpx.Client, rtype: str, body: dict[str, Any]) -> str:
    response = ns.post(f"{REC}/{rtype}", json=body)
    assert response.status_code == 204, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def state(ns: httpx.Client) -> dict[str, Any]:
    body: dict[str, Any] = ns.get("/_sandbox/state").json()
    return body


def test_create_answers_204_with_location_and_no_body(ns: httpx.Client) -> None:
    response = ns.post(f"{REC}/customer", json=customer_body(externalId="SF-001"))

    assert response.status_code == 204
    assert response.content == b""
    location = response.headers["location"]
    assert location.startswith(f"{ns.base_url}{REC}/customer/".replace("//services", "/services"))
    assert location.rsplit("/", 1)[-1].isdigit()


def test_get_returns_references_with_ref_name_and_links(ns: httpx.Client) -> None:
    cid = create(ns, "customer", customer_body(terms={"id": "2"}))

    response = ns.get(f"{REC}/customer/{cid}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.oracle.resource+json; type=singular-resource"
    )
    body = response.json()
    assert body["links"] == [{"rel": "self", "href": f"{ns.base_url}{REC}/customer/{cid}"}]
    assert body["id"] == cid
    assert body["subsidiary"]["id"] == "2"
    assert body["subsidiary"]["refName"] == "Parent Company : Acme Cloud Inc."
    assert body["subsidiary"]["links"][0]["href"].endswith(f"{REC}/subsidiary/2")
    assert body["currency"]["refName"] == "US Dollar"  # defaulted from the subsidiary
    assert body["terms"] == {
        "links": [{"rel": "self", "href": f"{ns.base_url}{REC}/term/2"}],
        "id": "2",
        "refName": "Net 30",
    }
    assert body["isPerson"] is False


def test_sublists_are_links_unless_expanded(ns: httpx.Client) -> None:
    address = {"addr1": "1 Main St", "city": "London", "zip": "EC1A 1AA", "country": {"id": "GB"}}
    body = customer_body(
        subsidiary={"id": "3"},
        addressBook={"items": [{"defaultBilling": True, "addressBookAddress": address}]},
    )
    cid = create(ns, "customer", body)

    plain = ns.get(f"{REC}/customer/{cid}").json()
    expanded = ns.get(f"{REC}/customer/{cid}", params={"expandSubResources": "true"}).json()

    assert plain["addressBook"] == {
        "links": [{"rel": "self", "href": f"{ns.base_url}{REC}/customer/{cid}/addressBook"}]
    }
    lines = expanded["addressBook"]["items"]
    assert expanded["addressBook"]["totalResults"] == 1
    assert lines[0]["addressBookAddress"]["country"] == {"id": "GB", "refName": "United Kingdom"}
    assert plain["defaultAddress"] == "1 Main St\nLondon EC1A 1AA\nUnited Kingdom"


def test_fields_parameter_keeps_only_the_named_fields(ns: httpx.Client) -> None:
    cid = create(ns, "customer", customer_body())

    body = ns.get(f"{REC}/customer/{cid}", params={"fields": "email,companyName"}).json()

    assert set(body) == {"links", "id", "email", "companyName"}


def test_upsert_twice_by_external_id_creates_one_record(ns: httpx.Client) -> None:
    first = ns.put(f"{REC}/customer/eid:SF-ACC-1", json=customer_body())
    second = ns.put(
        f"{REC}/customer/eid:SF-ACC-1", json=customer_body(email="billing@acme.example")
    )

    assert (first.status_code, second.status_code) == (204, 204)
    assert first.headers["location"] == second.headers["location"]
    assert state(ns)["counts"]["customer"] == 1
    record = ns.get(f"{REC}/customer/eid:SF-ACC-1").json()
    assert record["email"] == "billing@acme.example"
    assert record["externalId"] == "SF-ACC-1"


def test_put_without_external_id_is_refused(ns: httpx.Client) -> None:
    cid = create(ns, "customer", customer_body())

    response = ns.put(f"{REC}/customer/{cid}", json=customer_body())

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(ERROR_TYPE)
    assert state(ns)["counts"]["customer"] == 1


def test_missing_record_is_404_nonexistent_id(ns: httpx.Client) -> None:
    response = ns.get(f"{REC}/customer/999999")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith(ERROR_TYPE)
    assert response.json() == {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5",
        "title": "Not Found",
        "status": 404,
        "o:errorDetails": [
            {
                "detail": "The record instance does not exist. Provide a valid record instance ID.",
                "o:errorCode": "NONEXISTENT_ID",
            }
        ],
    }
    assert ns.get(f"{REC}/customer/eid:NOPE").status_code == 404


def test_unknown_record_type_is_404(ns: httpx.Client) -> None:
    response = ns.get(f"{REC}/widget/1")

    assert response.status_code == 404
    assert response.json()["o:errorDetails"][0]["detail"] == "Record type 'widget' does not exist."


def test_delete_answers_204_and_the_record_is_gone(ns: httpx.Client) -> None:
    cid = create(ns, "customer", customer_body(externalId="SF-DEL"))

    response = ns.delete(f"{REC}/customer/{cid}")

    assert response.status_code == 204
    assert ns.get(f"{REC}/customer/{cid}").status_code == 404
    assert ns.get(f"{REC}/customer/eid:SF-DEL").status_code == 404


def test_malformed_json_is_400_invalid_content(ns: httpx.Client) -> None:
    response = ns.post(
        f"{REC}/customer", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(ERROR_TYPE)
    detail = response.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_CONTENT"
    assert detail["detail"] == "Invalid content in the request body."


def test_patch_changes_only_the_given_fields(ns: httpx.Client) -> None:
    cid = create(ns, "customer", customer_body(phone="555-0100"))

    response = ns.patch(f"{REC}/customer/{cid}", json={"email": "new@acme.example"})

    assert response.status_code == 204
    body = ns.get(f"{REC}/customer/{cid}").json()
    assert (body["email"], body["phone"], body["companyName"]) == (
        "new@acme.example",
        "555-0100",
        "ACME Inc",
    )


def test_record_list_pages_with_has_more_and_filters_with_q(ns: httpx.Client) -> None:
    ids = [
        create(ns, "customer", customer_body(companyName=f"Co {i}", externalId=f"E{i}"))
        for i in range(3)
    ]

    first = ns.get(f"{REC}/customer", params={"limit": 2}).json()
    second = ns.get(f"{REC}/customer", params={"limit": 2, "offset": 2}).json()
    found = ns.get(f"{REC}/customer", params={"q": 'externalId IS "E1"'}).json()

    assert (first["count"], first["hasMore"], first["totalResults"], first["offset"]) == (
        2,
        True,
        3,
        0,
    )
    assert [item["id"] for item in first["items"] + second["items"]] == ids
    assert first["items"][0]["links"][0]["href"].endswith(f"/customer/{ids[0]}")
    assert {link["rel"] for link in first["links"]} == {"next", "last", "self"}
    assert second["hasMore"] is False
    assert [item["id"] for item in found["items"]] == [ids[1]]


def test_bad_filter_is_400_invalid_parameter(ns: httpx.Client) -> None:
    response = ns.get(f"{REC}/customer", params={"q": 'nosuchfield IS "x"'})

    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_PARAMETER"
    assert response.json()["o:errorDetails"][0]["o:errorQueryParam"] == "q"


def test_default_estate_holds_subsidiaries_currencies_and_items(ns: httpx.Client) -> None:
    uk = ns.get(f"{REC}/subsidiary/3").json()
    item = ns.get(f"{REC}/serviceSaleItem/eid:SUB-PLATFORM-ANNUAL").json()

    assert (uk["name"], uk["country"]["id"], uk["currency"]["refName"]) == (
        "Acme Cloud Ltd",
        "GB",
        "British Pound",
    )
    assert uk["parent"]["id"] == "1"
    assert ns.get(f"{REC}/currency/4").json()["symbol"] == "EUR"
    assert item["itemType"] == {"id": "Service", "refName": "Service"}
    assert [s["id"] for s in item["subsidiary"]["items"]] == ["2", "3", "4"]
    assert "USG-STORAGE-GB" in DEFAULT_ITEM_EXTERNAL_IDS
    assert ns.get(f"{REC}/nonInventorySaleItem/eid:USG-STORAGE-GB").status_code == 200


def test_items_created_by_post_can_be_sold(ns: httpx.Client) -> None:
    item_id = create(
        ns,
        "serviceSaleItem",
        {
            "itemId": "SVC-AUDIT",
            "displayName": "Security audit",
            "externalId": "SVC-AUDIT",
            "rate": 5000,
            "subsidiary": {"items": [{"id": "2"}]},
        },
    )
    cid = create(ns, "customer", customer_body())

    order = ns.post(
        f"{REC}/salesOrder",
        json={
            "entity": {"id": cid},
            "department": {"id": "20"},
            "item": {"items": [{"item": {"externalId": "SVC-AUDIT"}, "class": {"id": "200"}}]},
        },
    )

    assert order.status_code == 204, order.text
    body = ns.get(order.headers["location"], params={"expandSubResources": "true"}).json()
    line = body["item"]["items"][0]
    assert line["item"]["id"] == item_id
    assert (line["rate"], line["amount"], body["total"]) == (5000.0, 5000.0, 5000.0)


def test_persisted_account_keeps_its_records_across_restarts(tmp_path: Path) -> None:
    snapshots = SnapshotFile(tmp_path / "sandboxes.db")
    with (
        serve(create_app(persist=snapshots)) as base,
        httpx.Client(base_url=base, headers=AUTH) as ns,
    ):
        first = create(ns, "customer", customer_body(externalId="SF-KEEP"))

    with (
        serve(create_app(persist=snapshots)) as base,
        httpx.Client(base_url=base, headers=AUTH) as ns,
    ):
        kept = ns.get(f"{REC}/customer/eid:SF-KEEP")
        second = create(ns, "customer", customer_body(companyName="Next Co"))

    assert kept.status_code == 200
    assert kept.json()["id"] == first
    assert int(second) > int(first)
