"""NetSuite sandbox: sales order approval, closing, totals and the transform to invoice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.netsuite import DEFAULT_BEARER_TOKEN, create_app

AUTH = {"Authorization": f"Bearer {DEFAULT_BEARER_TOKEN}"}
REC = "/services/rest/record/v1"


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with (
        serve(create_app()) as base,
        httpx.Client(base_url=base, headers=AUTH, timeout=10) as client,
    ):
        yield client


@pytest.fixture
def ns(client: httpx.Client) -> httpx.Client:
    """A reset account whose orders are approved as soon as they are created."""
    client.post("/_sandbox/reset")
    client.put("/_sandbox/netsuite/config", json={"approval_delay_s": 0})
    return client


def new_customer(ns: httpx.Client, subsidiary: str = "2", **fields: Any) -> str:
    body = {"companyName": "ACME Inc", "subsidiary": {"id": subsidiary}, **fields}
    response = ns.post(f"{REC}/customer", json=body)
    assert response.status_code == 204, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def order_body(customer: str, **fields: Any) -> dict[str, Any]:
    lines = [
        {"item": {"externalId": "SUB-PLATFORM-ANNUAL"}, "quantity": 1, "class": {"id": "100"}},
        {
            "item": {"externalId": "SVC-IMPLEMENTATION"},
            "quantity": 4,
            "rate": 1250,
            "class": {"id": "200"},
        },
    ]
    return {
        "entity": {"id": customer},
        "department": {"id": "10"},
        "tranDate": "2024-05-01",
        "item": {"items": lines},
        **fields,
    }


def new_order(ns: httpx.Client, **fields: Any) -> str:
    response = ns.post(f"{REC}/salesOrder", json=order_body(new_customer(ns), **fields))
    assert response.status_code == 204, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def status(ns: httpx.Client, order_id: str) -> str:
    return str(ns.get(f"{REC}/salesOrder/{order_id}").json()["status"]["id"])


def test_new_order_is_pending_approval_until_the_delay_passes(ns: httpx.Client) -> None:
    ns.put("/_sandbox/netsuite/config", json={"approval_delay_s": 0.3})
    order_id = new_order(ns)

    pending = ns.get(f"{REC}/salesOrder/{order_id}").json()
    time.sleep(0.35)
    approved = ns.get(f"{REC}/salesOrder/{order_id}").json()

    assert pending["orderStatus"] == {"id": "A", "refName": "Pending Approval"}
    assert pending["status"] == {"id": "A", "refName": "Pending Approval"}
    assert approved["orderStatus"] == {"id": "B", "refName": "Pending Fulfillment"}
    assert approved["status"] == {"id": "B", "refName": "Pending Fulfillment"}


def test_transforming_a_pending_approval_order_is_refused(ns: httpx.Client) -> None:
    ns.put("/_sandbox/netsuite/config", json={"approval_delay_s": 30})
    order_id = new_order(ns)

    response = ns.post(f"{REC}/salesOrder/{order_id}/!transform/invoice")

    assert response.status_code == 400
    assert response.json()["o:errorDetails"] == [
        {
            "detail": "Error while accessing a resource. You can not initialize invoice: "
            f"invalid reference {order_id}.",
            "o:errorCode": "USER_ERROR",
        }
    ]
    assert ns.get("/_sandbox/state").json()["counts"]["invoice"] == 0


def test_transform_creates_the_invoice_and_the_order_shows_billed(ns: httpx.Client) -> None:
    order_id = new_order(ns, memo="Q2 renewal", otherRefNum="PO-77")

    response = ns.post(f"{REC}/salesOrder/{order_id}/!transform/invoice", json={})

    assert response.status_code == 204
    assert response.content == b""
    invoice_url = response.headers["location"]
    assert f"{REC}/invoice/" in invoice_url
    invoice = ns.get(invoice_url, params={"expandSubResources": "true"}).json()
    assert invoice["createdFrom"]["id"] == order_id
    assert invoice["createdFrom"]["refName"].startswith("Sales Order #SO")
    assert invoice["status"] == {"id": "A", "refName": "Open"}
    assert (invoice["total"], invoice["amountRemaining"]) == (17000.0, 17000.0)
    assert (invoice["memo"], invoice["otherRefNum"]) == ("Q2 renewal", "PO-77")
    assert [line["quantity"] for line in invoice["item"]["items"]] == [1.0, 4.0]
    assert status(ns, order_id) == "G"
    again = ns.post(f"{REC}/salesOrder/{order_id}/!transform/invoice")
    assert again.status_code == 400  # nothing left to bill


def test_transform_body_can_bill_part_of_an_order(ns: httpx.Client) -> None:
    order_id = new_order(ns)

    response = ns.post(
        f"{REC}/salesOrder/{order_id}/!transform/invoice",
        json={
            "tranDate": "2024-06-01",
            "externalId": "INV-EXT-1",
            "item": {"items": [{"orderLine": 2, "quantity": 1}]},
        },
    )

    assert response.status_code == 204, response.text
    invoice = ns.get(f"{REC}/invoice/eid:INV-EXT-1").json()
    assert (invoice["total"], invoice["tranDate"], invoice["dueDate"]) == (
        1250.0,
        "2024-06-01",
        "2024-06-01",
    )
    assert status(ns, order_id) == "E"


def test_order_with_the_reject_marker_is_cancelled_instead_of_approved(ns: httpx.Client) -> None:
    order_id = new_order(ns, memo="please REJECT this")

    assert ns.get(f"{REC}/salesOrder/{order_id}").json()["status"] == {
        "id": "C",
        "refName": "Cancelled",
    }
    assert ns.post(f"{REC}/salesOrder/{order_id}/!transform/invoice").status_code == 400


def test_closing_every_line_closes_the_order(ns: httpx.Client) -> None:
    order_id = new_order(ns)

    response = ns.patch(
        f"{REC}/salesOrder/{order_id}",
        json={"item": {"items": [{"line": 1, "isClosed": True}, {"line": 2, "isclosed": True}]}},
    )

    assert response.status_code == 204, response.text
    assert ns.get(f"{REC}/salesOrder/{order_id}").json()["status"] == {
        "id": "H",
        "refName": "Closed",
    }
    assert ns.post(f"{REC}/salesOrder/{order_id}/!transform/invoice").status_code == 400


def test_order_status_only_takes_approval_letters(ns: httpx.Client) -> None:
    order_id = new_order(ns)

    response = ns.patch(f"{REC}/salesOrder/{order_id}", json={"orderStatus": {"id": "C"}})

    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorPath"] == "orderStatus"


def test_patching_order_status_b_approves_at_once(ns: httpx.Client) -> None:
    ns.put("/_sandbox/netsuite/config", json={"approval_delay_s": 30})
    order_id = new_order(ns)
    preapproved = new_order(ns, orderStatus={"id": "B"})

    response = ns.patch(f"{REC}/salesOrder/{order_id}", json={"orderStatus": {"id": "B"}})

    assert response.status_code == 204
    assert status(ns, order_id) == "B"
    assert status(ns, preapproved) == "B"


def test_deleting_the_invoice_reopens_the_order_for_billing(ns: httpx.Client) -> None:
    order_id = new_order(ns)
    invoice_url = ns.post(f"{REC}/salesOrder/{order_id}/!transform/invoice").headers["location"]

    assert ns.delete(f"{REC}/salesOrder/{order_id}").status_code == 400  # has an invoice
    assert ns.delete(invoice_url).status_code == 204
    assert status(ns, order_id) == "B"
    assert ns.delete(f"{REC}/salesOrder/{order_id}").status_code == 204


def test_totals_include_tax_from_the_line_tax_codes(ns: httpx.Client) -> None:
    uk = new_customer(ns, subsidiary="3", currency={"id": "2"})
    body = order_body(uk)
    for line in body["item"]["items"]:
        line["taxCode"] = {"id": "10"}  # UK standard rate, 20%

    response = ns.post(f"{REC}/salesOrder", json=body)

    assert response.status_code == 204, response.text
    order = ns.get(response.headers["location"]).json()
    assert (order["subtotal"], order["taxTotal"], order["total"]) == (17000.0, 3400.0, 20400.0)
    assert order["currency"]["refName"] == "British Pound"
    assert order["tranId"].startswith("SO")


def test_upserting_an_order_twice_keeps_one_order_with_its_lines(ns: httpx.Client) -> None:
    body = order_body(new_customer(ns))

    first = ns.put(f"{REC}/salesOrder/eid:SF-OPP-9", json=body)
    second = ns.put(f"{REC}/salesOrder/eid:SF-OPP-9", json=body)

    assert (first.status_code, second.status_code) == (204, 204)
    assert first.headers["location"] == second.headers["location"]
    order = ns.get(f"{REC}/salesOrder/eid:SF-OPP-9", params={"expandSubResources": "true"}).json()
    assert order["item"]["totalResults"] == 2
    assert order["total"] == 17000.0
    assert ns.get("/_sandbox/state").json()["counts"]["salesOrder"] == 1


def test_billed_lines_cannot_be_changed(ns: httpx.Client) -> None:
    order_id = new_order(ns)
    ns.post(f"{REC}/salesOrder/{order_id}/!transform/invoice")

    response = ns.patch(
        f"{REC}/salesOrder/{order_id}", json={"item": {"items": [{"line": 1, "quantity": 5}]}}
    )

    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorCode"] == "USER_ERROR"


def test_sublist_and_line_resources_answer_the_lines(ns: httpx.Client) -> None:
    order_id = new_order(ns)

    lines = ns.get(f"{REC}/salesOrder/{order_id}/item").json()
    line = ns.get(f"{REC}/salesOrder/{order_id}/item/2").json()

    assert lines["totalResults"] == 2
    assert line["item"]["refName"] == "SVC-IMPLEMENTATION"
    assert (line["quantity"], line["rate"], line["amount"]) == (4.0, 1250.0, 5000.0)
    assert ns.get(f"{REC}/salesOrder/{order_id}/item/9").status_code == 404
