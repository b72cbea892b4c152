"""NetSuite sandbox: one invoice per billing period, by transform, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.netsuite import DEFAULT_BEARER_TOKEN, create_app

AUTH = {"Authorization": f"Bearer {DEFAULT_BEARER_TOKEN}"}
REC = "/services/rest/record/v1"
DUPLICATE = {
    "detail": "Error while accessing a resource. This record already exists.",
    "o:errorCode": "DUP_RCRD",
    "o:errorPath": "externalId",
}


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
    client.put("/_sandbox/faults", json={})
    return client


def created_id(response: httpx.Response) -> str:
    assert response.status_code == 204, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def new_order(ns: httpx.Client, **fields: Any) -> str:
    customer = created_id(
        ns.post(f"{REC}/customer", json={"companyName": "ACME Inc", "subsidiary": {"id": "2"}})
    )
    lines = [
        {"item": {"externalId": "SUB-PLATFORM-ANNUAL"}, "quantity": 1, "class": {"id": "100"}},
        {
            "item": {"externalId": "SVC-IMPLEMENTATION"},
            "quantity": 4,
            "rate": 1250,
            "class": {"id": "200"},
        },
    ]
    body = {
        "entity": {"id": customer},
        "department": {"id": "10"},
        "tranDate": "2024-05-01",
        "item": {"items": lines},
        **fields,
    }
    return created_id(ns.post(f"{REC}/salesOrder", json=body))


def transform(ns: httpx.Client, order_id: str, body: dict[str, Any]) -> httpx.Response:
    return ns.post(f"{REC}/salesOrder/{order_id}/!transform/invoice", json=body)


def period(external_id: str, amount: float, **fields: Any) -> dict[str, Any]:
    """Half of the platform subscription (order line 1), as one billing invoice."""
    return {
        "externalId": external_id,
        "item": {"items": [{"orderLine": 1, "quantity": 1, "amount": amount}]},
        **fields,
    }


def read(ns: httpx.Client, path: str) -> dict[str, Any]:
    response = ns.get(f"{REC}/{path}", params={"expandSubResources": "true"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def order_line(ns: httpx.Client, order_id: str, number: int) -> dict[str, Any]:
    lines = read(ns, f"salesOrder/{order_id}")["item"]["items"]
    line: dict[str, Any] = next(ln for ln in lines if ln["line"] == number)
    return line


def counts(ns: httpx.Client) -> dict[str, int]:
    body: dict[str, int] = ns.get("/_sandbox/state").json()["counts"]
    return body


def test_two_periods_bill_the_subscription_and_the_last_one_leaves_the_order_billed(
    ns: httpx.Client,
) -> None:
    order_id = new_order(ns)
    ns.post(  # bill the services line in full first
        f"{REC}/salesOrder/{order_id}/!transform/invoice",
        json={"item": {"items": [{"orderLine": 2}]}},
    )

    first = transform(
        ns,
        order_id,
        period(
            "in_1",
            6000,
            tranDate="2024-05-01",
            dueDate="2024-05-31",
            memo="May-Oct",
            otherRefNum="ACME-0001",
        ),
    )
    after_first = read(ns, f"salesOrder/{order_id}")["status"]["id"]
    second = transform(ns, order_id, period("in_2", 6000, tranDate="2024-11-01"))

    assert (first.status_code, second.status_code) == (204, 204), second.text
    invoice = read(ns, "invoice/eid:in_1")
    assert invoice["tranId"].startswith("INV")
    assert (invoice["subtotal"], invoice["taxTotal"], invoice["total"]) == (6000.0, 0.0, 6000.0)
    assert (invoice["amountRemaining"], invoice["amountPaid"]) == (6000.0, 0.0)
    assert invoice["status"] == {"id": "A", "refName": "Open"}
    assert (invoice["dueDate"], invoice["memo"], invoice["otherRefNum"]) == (
        "2024-05-31",
        "May-Oct",
        "ACME-0001",
    )
    assert invoice["createdFrom"]["id"] == order_id
    assert (invoice["currency"]["id"], invoice["subsidiary"]["id"]) == ("1", "2")
    [line] = invoice["item"]["items"]
    assert (line["orderLine"], line["item"]["id"], line["quantity"], line["rate"]) == (
        1,
        "201",
        1.0,
        6000.0,
    )
    assert line["amount"] == 6000.0
    assert after_first == "E"
    assert read(ns, f"salesOrder/{order_id}")["status"] == {"id": "G", "refName": "Billed"}
    assert order_line(ns, order_id, 1)["amountBilled"] == 12000.0
    assert transform(ns, order_id, {}).status_code == 400  # nothing left to bill


def test_billing_more_than_the_amount_remaining_is_refused_and_stores_nothing(
    ns: httpx.Client,
) -> None:
    order_id = new_order(ns)
    transform(ns, order_id, period("in_1", 7000))

    response = transform(ns, order_id, period("in_2", 5000.01))

    assert response.status_code == 400
    assert response.json()["o:errorDetails"] == [
        {
            "detail": "Error while accessing a resource. The amount billed is more than the "
            "amount remaining to be billed (5000.0) on line 1 of the sales order.",
            "o:errorCode": "USER_ERROR",
            "o:errorPath": "item.items[0].amount",
        }
    ]
    assert counts(ns)["invoice"] == 1
    assert order_line(ns, order_id, 1)["amountBilled"] == 7000.0
    assert ns.get(f"{REC}/invoice/eid:in_2").status_code == 404


def test_billing_more_than_the_quantity_remaining_is_refused(ns: httpx.Client) -> None:
    order_id = new_order(ns)
    transform(ns, order_id, {"item": {"items": [{"orderLine": 2, "quantity": 3}]}})

    response = transform(ns, order_id, {"item": {"items": [{"orderLine": 2, "quantity": 2}]}})

    assert response.status_code == 400
    detail = response.json()["o:errorDetails"][0]
    assert (detail["o:errorCode"], detail["o:errorPath"]) == (
        "USER_ERROR",
        "item.items[0].quantity",
    )
    assert "remaining quantity (1.0) of line 2" in detail["detail"]
    assert order_line(ns, order_id, 2)["quantityBilled"] == 3.0


def test_a_second_invoice_with_the_same_external_id_is_refused_and_the_first_reads_by_eid(
    ns: httpx.Client,
) -> None:
    order_id = new_order(ns)
    assert transform(ns, order_id, period("in_1", 6000)).status_code == 204

    again = transform(ns, order_id, period("in_1", 6000))
    created = ns.post(
        f"{REC}/invoice",
        json={
            "externalId": "in_1",
            "entity": read(ns, f"salesOrder/{order_id}")["entity"]["id"],
            "item": {"items": [{"item": {"id": "204"}, "quantity": 1}]},
        },
    )

    assert again.status_code == created.status_code == 400
    assert again.json()["o:errorDetails"] == [DUPLICATE]
    assert created.json()["o:errorDetails"] == [DUPLICATE]
    assert counts(ns)["invoice"] == 1
    assert order_line(ns, order_id, 1)["amountBilled"] == 6000.0
    assert read(ns, "invoice/eid:in_1")["total"] == 6000.0


def test_transform_tax_details_set_the_invoice_tax(ns: httpx.Client) -> None:
    order_id = new_order(ns)
    body = period("in_tax", 6000)
    body["item"]["items"][0]["taxDetailsReference"] = "line-1"
    body["taxDetailsOverride"] = True
    body["taxDetails"] = {
        "items": [
            {
                "taxDetailsReference": "line-1",
                "taxType": "Sales Tax",
                "taxCode": "AVATAX",
                "taxBasis": 6000,
                "taxRate": 8.25,
                "taxAmount": 495,
            }
        ]
    }

    assert transform(ns, order_id, body).status_code == 204

    invoice = read(ns, "invoice/eid:in_tax")
    assert (invoice["subtotal"], invoice["taxTotal"], invoice["total"]) == (6000.0, 495.0, 6495.0)
    assert invoice["amountRemaining"] == 6495.0
    assert invoice["taxDetails"]["items"][0]["taxAmount"] == 495.0


def test_an_invoice_of_an_overriding_order_takes_its_tax_in_proportion(ns: httpx.Client) -> None:
    order_id = new_order(ns)
    patched = ns.patch(
        f"{REC}/salesOrder/{order_id}",
        json={
            "taxDetailsOverride": True,
            "item": {"items": [{"line": 1, "taxDetailsReference": "r1"}]},
            "taxDetails": {
                "items": [{"taxDetailsReference": "r1", "taxBasis": 12000, "taxAmount": 990}]
            },
        },
    )
    assert patched.status_code == 204, patched.text

    assert transform(ns, order_id, period("in_half", 6000)).status_code == 204

    invoice = read(ns, "invoice/eid:in_half")
    assert (invoice["taxTotal"], invoice["total"]) == (495.0, 6495.0)


def test_a_line_beyond_the_order_is_added_to_the_invoice_and_bills_nothing_of_the_order(
    ns: httpx.Client,
) -> None:
    """Usage billed in arrears: an item line named by ``item``, beside an order line, on an
    order that overrides tax (the added line takes none of the order's tax)."""
    order_id = new_order(ns)
    patched = ns.patch(
        f"{REC}/salesOrder/{order_id}",
        json={
            "taxDetailsOverride": True,
            "item": {"items": [{"line": 1, "taxDetailsReference": "r1"}]},
            "taxDetails": {
                "items": [{"taxDetailsReference": "r1", "taxBasis": 12000, "taxAmount": 990}]
            },
        },
    )
    assert patched.status_code == 204, patched.text
    usage = {"item": {"externalId": "SVC-IMPLEMENTATION"}, "quantity": 1000, "amount": 80}
    body = {
        "externalId": "in_usage",
        "item": {"items": [{"orderLine": 1, "quantity": 1, "amount": 6000}, usage]},
    }

    assert transform(ns, order_id, body).status_code == 204, "transformed with the usage line"

    invoice = read(ns, "invoice/eid:in_usage")
    assert [line.get("orderLine") for line in invoice["item"]["items"]] == [1, None]
    assert (invoice["subtotal"], invoice["taxTotal"]) == (6080.0, 495.0)
    assert order_line(ns, order_id, 2)["amountBilled"] == 0


def test_a_transform_whose_answer_is_lost_leaves_one_invoice_found_by_external_id(
    ns: httpx.Client,
) -> None:
    order_id = new_order(ns)
    route = f"{REC}/salesOrder/{order_id}/!transform/invoice"
    ns.put(
        "/_sandbox/faults",
        json={"rules": [{"method": "POST", "path": route, "commit_then_drop_rate": 1.0}]},
    )

    with pytest.raises(httpx.TransportError):
        transform(ns, order_id, period("in_drop", 6000))
    ns.put("/_sandbox/faults", json={})
    retry = transform(ns, order_id, period("in_drop", 6000))

    assert retry.status_code == 400
    assert retry.json()["o:errorDetails"] == [DUPLICATE]
    assert read(ns, "invoice/eid:in_drop")["total"] == 6000.0
    state = ns.get("/_sandbox/state").json()
    assert state["counts"]["invoice"] == 1
    assert state["_faults"]["commit_then_drop"] == 1
    assert order_line(ns, order_id, 1)["amountBilled"] == 6000.0


def test_suiteql_lists_invoices_with_their_order_and_external_id(ns: httpx.Client) -> None:
    order_id = new_order(ns)
    transform(ns, order_id, period("in_1", 6000))
    transform(ns, order_id, period("in_2", 6000))

    response = ns.post(
        "/services/rest/query/v1/suiteql",
        headers={"Prefer": "transient"},
        json={
            "q": "SELECT id, tranid, externalid, foreigntotal, status, createdfrom "
            "FROM transaction WHERE type = 'CustInvc' ORDER BY externalid"
        },
    )

    assert response.status_code == 200, response.text
    rows = [{k: v for k, v in row.items() if k != "links"} for row in response.json()["items"]]
    assert [(r["externalid"], r["foreigntotal"], r["status"]) for r in rows] == [
        ("in_1", "6000", "A"),
        ("in_2", "6000", "A"),
    ]
    assert {r["createdfrom"] for r in rows} == {order_id}
    assert all(r["tranid"].startswith("INV") for r in rows)


def test_deleting_an_invoice_gives_its_amount_back_to_the_order(ns: httpx.Client) -> None:
    order_id = new_order(ns)
    transform(ns, order_id, period("in_1", 6000))
    invoice_id = read(ns, "invoice/eid:in_1")["id"]

    assert ns.delete(f"{REC}/invoice/{invoice_id}").status_code == 204

    assert order_line(ns, order_id, 1)["amountBilled"] == 0.0
    assert read(ns, f"salesOrder/{order_id}")["status"]["id"] == "B"
