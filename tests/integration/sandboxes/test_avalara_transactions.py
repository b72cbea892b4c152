"""AvaTax sandbox: recording, reading, committing, adjusting and voiding documents."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.avalara import create_app

ACCOUNT = ("1100000001", "TEST-LICENSE-KEY")
LONDON = {"line1": "1 Poultry", "city": "London", "country": "GB", "postalCode": "EC2R 8EJ"}
DOC = "/api/v2/companies/ACME-UK/transactions"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve(create_app(credentials=dict([ACCOUNT]))) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, auth=ACCOUNT, timeout=10) as c:
        c.post("/_sandbox/reset")
        yield c


def invoice(code: str | None, amount: float = 1000, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "SalesInvoice",
        "companyCode": "ACME-UK",
        "date": "2024-05-01",
        "customerCode": "CUST-1",
        "addresses": {"singleLocation": LONDON},
        "lines": [{"number": "1", "amount": amount, "taxCode": "SW054000"}],
        **extra,
    }
    if code is not None:
        body["code"] = code
    return body


def state(client: httpx.Client) -> Any:
    return client.get("/_sandbox/state").json()


def create_or_adjust(client: httpx.Client, body: dict[str, Any], **extra: Any) -> httpx.Response:
    payload = {"createTransactionModel": body, **extra}
    return client.post("/api/v2/transactions/createoradjust", json=payload)


def test_sales_order_estimate_is_not_recorded(client: httpx.Client) -> None:
    body = dict(invoice("QUOTE-1"), type="SalesOrder")
    created = client.post("/api/v2/transactions/create", json=body)
    assert created.status_code == 201
    assert (created.json()["status"], created.json()["id"]) == ("Temporary", 0)
    missing = client.get(f"{DOC}/QUOTE-1")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "EntityNotFoundError"
    assert missing.json()["error"]["details"][0]["number"] == 4
    assert state(client)["counts"]["transactions"] == 0


def test_type_defaults_to_sales_order(client: httpx.Client) -> None:
    body = invoice("QUOTE-2")
    del body["type"]
    assert client.post("/api/v2/transactions/create", json=body).json()["type"] == "SalesOrder"


def test_sales_invoice_is_recorded_and_read_back_by_code(client: httpx.Client) -> None:
    created = client.post("/api/v2/transactions/create", json=invoice("INV-100"))
    assert created.status_code == 201
    tx = created.json()
    assert (tx["status"], tx["version"], tx["code"], tx["totalTax"]) == ("Saved", 1, "INV-100", 200)
    read = client.get(f"{DOC}/INV-100")
    assert read.status_code == 200
    assert read.json() == tx
    assert client.get(f"/api/v2/transactions/{tx['id']}").json()["code"] == "INV-100"


def test_invoice_without_code_gets_a_guid_code(client: httpx.Client) -> None:
    tx = client.post("/api/v2/transactions/create", json=invoice(None)).json()
    assert str(uuid.UUID(tx["code"])) == tx["code"]
    assert client.get(f"{DOC}/{tx['code']}").status_code == 200


def test_commit_moves_a_saved_invoice_to_committed(client: httpx.Client) -> None:
    client.post("/api/v2/transactions/create", json=invoice("INV-200"))
    committed = client.post(f"{DOC}/INV-200/commit", json={"commit": True})
    assert committed.status_code == 200
    assert committed.json()["status"] == "Committed"
    assert client.get(f"{DOC}/INV-200").json()["status"] == "Committed"
    uncommitted = client.post(f"{DOC}/INV-200/commit", json={"commit": False})
    assert uncommitted.json()["status"] == "Saved"


def test_create_with_the_code_of_a_committed_invoice_is_a_document_code_conflict(
    client: httpx.Client,
) -> None:
    client.post("/api/v2/transactions/create", json=invoice("INV-300", commit=True))
    again = client.post("/api/v2/transactions/create", json=invoice("INV-300", amount=5))
    assert again.status_code == 400
    error = again.json()["error"]
    assert (error["code"], error["details"][0]["number"]) == ("DocumentCodeConflict", 303)
    assert client.get(f"{DOC}/INV-300").json()["totalAmount"] == 1000


def test_create_over_a_saved_invoice_replaces_it_with_a_new_version(client: httpx.Client) -> None:
    first = client.post("/api/v2/transactions/create", json=invoice("INV-350")).json()
    second = client.post("/api/v2/transactions/create", json=invoice("INV-350", 50)).json()
    assert (second["version"], second["totalAmount"]) == (2, 50)
    assert second["id"] != first["id"]
    assert state(client)["counts"] == {"transactions": 1, "history": 1}


def test_create_or_adjust_twice_with_the_same_input_leaves_one_document(
    client: httpx.Client,
) -> None:
    first = create_or_adjust(client, invoice("INV-400", commit=True))
    second = create_or_adjust(client, invoice("INV-400", commit=True))
    assert (first.status_code, second.status_code) == (201, 201)
    one, two = first.json(), second.json()
    assert (one["version"], one["adjustmentReason"]) == (1, "NotAdjusted")
    # AvaTax adjusts whenever the document exists: same figures, next version.
    assert (two["version"], two["adjustmentReason"], two["status"]) == (2, "Other", "Committed")
    assert two["adjustmentDescription"] == "Create or adjust transaction"
    assert (two["totalAmount"], two["totalTax"]) == (one["totalAmount"], one["totalTax"])
    snapshot = state(client)
    assert snapshot["counts"] == {"transactions": 1, "history": 1}
    assert snapshot["history"][0]["status"] == "Adjusted"
    assert client.get(f"/api/v2/transactions/{one['id']}").json()["status"] == "Adjusted"


def test_create_or_adjust_with_a_new_amount_adjusts_the_document(client: httpx.Client) -> None:
    create_or_adjust(client, invoice("INV-500", commit=True))
    adjusted = create_or_adjust(
        client,
        invoice("INV-500", amount=1500, commit=True),
        adjustmentReason="PriceAdjusted",
        adjustmentDescription="Upsell",
    ).json()
    assert (adjusted["totalAmount"], adjusted["totalTax"], adjusted["version"]) == (1500, 300, 2)
    assert (adjusted["adjustmentReason"], adjusted["adjustmentDescription"]) == (
        "PriceAdjusted",
        "Upsell",
    )
    assert client.get(f"{DOC}/INV-500").json()["totalAmount"] == 1500


def test_adjust_endpoint_replaces_a_committed_document(client: httpx.Client) -> None:
    client.post("/api/v2/transactions/create", json=invoice("INV-550", commit=True))
    new = invoice("INV-550", 80)
    del new["type"]  # the adjusted document keeps its type
    body = {"adjustmentReason": "PriceAdjusted", "newTransaction": new}
    adjusted = client.post(f"{DOC}/INV-550/adjust", json=body)
    assert adjusted.status_code == 200
    tx = adjusted.json()
    assert (tx["adjustmentReason"], tx["totalAmount"], tx["type"], tx["version"]) == (
        "PriceAdjusted",
        80,
        "SalesInvoice",
        2,
    )


def test_void_cancels_and_a_second_void_is_refused(client: httpx.Client) -> None:
    client.post("/api/v2/transactions/create", json=invoice("INV-600", commit=True))
    voided = client.post(f"{DOC}/INV-600/void", json={"code": "DocVoided"})
    assert (voided.status_code, voided.json()["status"]) == (200, "Cancelled")
    again = client.post(f"{DOC}/INV-600/void", json={"code": "DocVoided"})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "TransactionAlreadyCancelled"
    recreated = client.post("/api/v2/transactions/create", json=invoice("INV-600"))
    assert (recreated.status_code, recreated.json()["version"]) == (201, 1)


def test_void_requires_a_reason_code(client: httpx.Client) -> None:
    client.post("/api/v2/transactions/create", json=invoice("INV-650"))
    response = client.post(f"{DOC}/INV-650/void", json={})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ValueRequiredError"


def test_locked_document_refuses_adjustment_and_void(client: httpx.Client) -> None:
    client.post("/api/v2/transactions/create", json=invoice("INV-700", commit=True))
    lock = {"companyCode": "ACME-UK", "code": "INV-700"}
    assert client.post("/_sandbox/transactions/lock", json=lock).json()["locked"] is True
    adjusted = create_or_adjust(client, invoice("INV-700", 5, commit=True))
    voided = client.post(f"{DOC}/INV-700/void", json={"code": "DocVoided"})
    for response in (adjusted, voided):
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["number"] == 1100


def test_document_type_selects_between_documents_sharing_a_code(client: httpx.Client) -> None:
    client.post("/api/v2/transactions/create", json=invoice("SHARED"))
    ret = dict(invoice("SHARED", -10), type="ReturnInvoice")
    client.post("/api/v2/transactions/create", json=ret)
    assert client.get(f"{DOC}/SHARED").json()["type"] == "SalesInvoice"
    by_type = client.get(f"{DOC}/SHARED", params={"documentType": "ReturnInvoice"})
    assert by_type.json()["totalAmount"] == -10


def test_escaped_slash_in_a_transaction_code_is_decoded(client: httpx.Client) -> None:
    client.post("/api/v2/transactions/create", json=invoice("2024/INV/1"))
    assert client.get(f"{DOC}/2024_-ava2f-_INV_-ava2f-_1").json()["code"] == "2024/INV/1"
