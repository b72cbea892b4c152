"""NetSuite sandbox: customer payments applied to invoices, over HTTP."""

from __future__ import annotations

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
        serve(create_app(approval_delay_s=0)) as base,
        httpx.Client(base_url=base, headers=AUTH, timeout=10) as client,
    ):
        yield client


@pytest.fixture
def ns(client: httpx.Client) -> httpx.Client:
    client.post("/_sandbox/reset")
    return client


def created_id(response: httpx.Response) -> str:
    assert response.status_code == 204, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def new_customer(ns: httpx.Client, name: str = "ACME Inc", **fields: Any) -> str:
    body = {"companyName": name, "subsidiary": {"id": "2"}, **fields}
    return created_id(ns.post(f"{REC}/customer", json=body))


def new_invoice(ns: httpx.Client, customer: str, external_id: str, **fields: Any) -> str:
    """An invoice of 1,800.00 (two training sessions)."""
    body = {
        "externalId": external_id,
        "entity": {"id": customer},
        "tranDate": "2024-05-01",
        "item": {"items": [{"item": {"externalId": "SVC-TRAINING"}, "quantity": 2}]},
        **fields,
    }
    return created_id(ns.post(f"{REC}/invoice", json=body))


def payment(customer: str, *applied: tuple[str, float | None], **fields: Any) -> dict[str, Any]:
    lines = []
    for invoice, amount in applied:
        line: dict[str, Any] = {"doc": {"id": invoice}, "apply": True}
        if amount is not None:
            line["amount"] = amount
        lines.append(line)
    return {
        "customer": {"id": customer},
        "currency": {"id": "1"},
        "tranDate": "2024-05-20",
        "memo": "ch_123",
        "apply": {"items": lines},
        **fields,
    }


def read(ns: httpx.Client, path: str) -> dict[str, Any]:
    response = ns.get(f"{REC}/{path}", params={"expandSubResources": "true"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def balance(ns: httpx.Client, invoice: str) -> tuple[float, float, str]:
    body = read(ns, f"invoice/{invoice}")
    return body["amountPaid"], body["amountRemaining"], body["status"]["refName"]


def refused(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    [detail] = response.json()["o:errorDetails"]
    assert isinstance(detail, dict)
    return detail


def payment_count(ns: httpx.Client) -> int:
    return int(ns.get("/_sandbox/state").json()["counts"]["customerPayment"])


def test_a_full_payment_leaves_the_invoice_paid_in_full(ns: httpx.Client) -> None:
    customer = new_customer(ns)
    invoice = new_invoice(ns, customer, "in_1")

    payment_id = created_id(
        ns.post(
            f"{REC}/customerPayment",
            json=payment(customer, (invoice, 1800), payment=1800, externalId="py_1"),
        )
    )

    assert balance(ns, invoice) == (1800.0, 0.0, "Paid In Full")
    body = read(ns, f"customerPayment/{payment_id}")
    assert (body["payment"], body["applied"], body["unapplied"]) == (1800.0, 1800.0, 0.0)
    assert (body["externalId"], body["memo"], body["tranDate"]) == ("py_1", "ch_123", "2024-05-20")
    assert body["customer"]["id"] == customer
    assert body["tranId"].startswith("PYMT")
    [line] = body["apply"]["items"]
    assert (line["doc"]["id"], line["apply"], line["amount"]) == (invoice, True, 1800.0)
    assert read(ns, "customerPayment/eid:py_1")["id"] == payment_id


def test_partial_payments_leave_the_invoice_open_until_the_last(ns: httpx.Client) -> None:
    customer = new_customer(ns)
    invoice = new_invoice(ns, customer, "in_1")

    created_id(ns.put(f"{REC}/customerPayment/eid:py_1", json=payment(customer, (invoice, 500))))
    after_first = balance(ns, invoice)
    created_id(ns.put(f"{REC}/customerPayment/eid:py_2", json=payment(customer, (invoice, None))))

    assert after_first == (500.0, 1300.0, "Open")
    assert balance(ns, invoice) == (1800.0, 0.0, "Paid In Full")
    assert read(ns, "customerPayment/eid:py_2")["payment"] == 1300.0


def test_upserting_a_payment_again_changes_it_instead_of_paying_twice(ns: httpx.Client) -> None:
    customer = new_customer(ns)
    invoice = new_invoice(ns, customer, "in_1")
    body = payment(customer, (invoice, 700))

    first = ns.put(f"{REC}/customerPayment/eid:py_1", json=body)
    second = ns.put(f"{REC}/customerPayment/eid:py_1", json=body)
    duplicate = ns.post(f"{REC}/customerPayment", json={**body, "externalId": "py_1"})

    assert first.headers["location"] == second.headers["location"]
    assert refused(duplicate)["o:errorCode"] == "DUP_RCRD"
    assert payment_count(ns) == 1
    assert balance(ns, invoice) == (700.0, 1100.0, "Open")


def test_deleting_a_payment_gives_the_invoice_its_balance_back(ns: httpx.Client) -> None:
    customer = new_customer(ns)
    invoice = new_invoice(ns, customer, "in_1")
    payment_id = created_id(
        ns.post(f"{REC}/customerPayment", json=payment(customer, (invoice, 1800)))
    )

    assert ns.delete(f"{REC}/invoice/{invoice}").status_code == 400  # a payment is applied
    assert ns.delete(f"{REC}/customerPayment/{payment_id}").status_code == 204

    assert balance(ns, invoice) == (0.0, 1800.0, "Open")
    assert ns.delete(f"{REC}/invoice/{invoice}").status_code == 204


@pytest.mark.parametrize(
    ("case", "path", "text"),
    [
        ("another customer's invoice", "apply.items[0].doc", "not an open invoice of customer"),
        ("an unknown invoice", "apply.items[0].doc", "not an open invoice of customer"),
        ("another currency", "apply.items[0].doc", "in another currency than the payment"),
        ("more than the amount due", "apply.items[0].amount", "is more than its amount due"),
        ("more than the payment", "payment", "is more than the payment amount"),
    ],
)
def test_a_refused_payment_stores_nothing(
    ns: httpx.Client, case: str, path: str, text: str
) -> None:
    customer = new_customer(ns, currency={"id": "1"})
    other = new_customer(ns, "Other Co")
    invoice = new_invoice(ns, customer, "in_1")
    body = {
        "another customer's invoice": payment(other, (invoice, 100)),
        "an unknown invoice": payment(customer, ("999999", 100)),
        "another currency": payment(customer, (invoice, 100), currency={"id": "2"}),
        "more than the amount due": payment(customer, (invoice, 1800.01)),
        "more than the payment": payment(customer, (invoice, 1000), payment=999.99),
    }[case]

    detail = refused(ns.post(f"{REC}/customerPayment", json=body))

    assert (detail["o:errorCode"], detail["o:errorPath"]) == ("USER_ERROR", path)
    assert text in detail["detail"]
    assert payment_count(ns) == 0
    assert balance(ns, invoice) == (0.0, 1800.0, "Open")


def test_applying_more_than_remains_after_a_partial_payment_is_refused(ns: httpx.Client) -> None:
    customer = new_customer(ns)
    invoice = new_invoice(ns, customer, "in_1")
    created_id(ns.post(f"{REC}/customerPayment", json=payment(customer, (invoice, 1000))))

    detail = refused(ns.post(f"{REC}/customerPayment", json=payment(customer, (invoice, 801))))

    assert detail["detail"].endswith("(801.0) is more than its amount due (800.0).")
    assert payment_count(ns) == 1
    assert balance(ns, invoice) == (1000.0, 800.0, "Open")


def test_suiteql_lists_payments_and_what_they_apply_to(ns: httpx.Client) -> None:
    customer = new_customer(ns)
    first = new_invoice(ns, customer, "in_1")
    second = new_invoice(ns, customer, "in_2")
    created_id(
        ns.put(
            f"{REC}/customerPayment/eid:py_1",
            json=payment(customer, (first, 1800), (second, 200)),
        )
    )

    def query(q: str) -> list[dict[str, Any]]:
        response = ns.post(
            "/services/rest/query/v1/suiteql", headers={"Prefer": "transient"}, json={"q": q}
        )
        assert response.status_code == 200, response.text
        return [{k: v for k, v in r.items() if k != "links"} for r in response.json()["items"]]

    payments = query(
        "SELECT id, tranid, externalid, foreigntotal, entity FROM transaction "
        "WHERE type = 'CustPymt'"
    )
    invoices = query(
        "SELECT externalid, status, foreignamountpaid, foreignamountunpaid FROM transaction "
        "WHERE type = 'CustInvc' ORDER BY externalid"
    )
    links = query(
        "SELECT previousdoc, nextdoc, foreignamount FROM previoustransactionlinelink "
        "WHERE linktype = 'Payment' ORDER BY foreignamount DESC"
    )

    [row] = payments
    assert (row["externalid"], row["foreigntotal"], row["entity"]) == ("py_1", "2000", customer)
    assert invoices == [
        {
            "externalid": "in_1",
            "status": "B",
            "foreignamountpaid": "1800",
            "foreignamountunpaid": "0",
        },
        {
            "externalid": "in_2",
            "status": "A",
            "foreignamountpaid": "200",
            "foreignamountunpaid": "1600",
        },
    ]
    assert [(r["previousdoc"], r["nextdoc"], r["foreignamount"]) for r in links] == [
        (first, row["id"], "1800"),
        (second, row["id"], "200"),
    ]


def test_patching_the_applied_amount_moves_the_invoice_balance(ns: httpx.Client) -> None:
    customer = new_customer(ns)
    invoice = new_invoice(ns, customer, "in_1")
    payment_id = created_id(
        ns.post(f"{REC}/customerPayment", json=payment(customer, (invoice, 1000), payment=1800))
    )

    patched = ns.patch(
        f"{REC}/customerPayment/{payment_id}",
        json={"apply": {"items": [{"doc": {"externalId": "in_1"}, "amount": 1800}]}},
    )

    assert patched.status_code == 204, patched.text
    assert balance(ns, invoice) == (1800.0, 0.0, "Paid In Full")
    body = read(ns, f"customerPayment/{payment_id}")
    assert (body["applied"], body["unapplied"], body["apply"]["totalResults"]) == (1800.0, 0.0, 1)
