"""AvaTax sandbox: one committed SalesInvoice per billing invoice, and listing them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.avalara import create_app

ACCOUNT = ("1100000001", "TEST-LICENSE-KEY")
LONDON = {"line1": "1 Poultry", "city": "London", "country": "GB", "postalCode": "EC2R 8EJ"}
DOCS = "/api/v2/companies/ACME-UK/transactions"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve(create_app(credentials=dict([ACCOUNT]))) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, auth=ACCOUNT, timeout=10) as c:
        c.post("/_sandbox/reset")
        c.put("/_sandbox/faults", json={})
        yield c


def invoice(code: str, day: str = "2024-05-01", amount: float = 1000, **extra: Any) -> Any:
    return {
        "type": "SalesInvoice",
        "code": code,
        "companyCode": "ACME-UK",
        "date": day,
        "customerCode": "CUST-1",
        "currencyCode": "GBP",
        "addresses": {"singleLocation": LONDON},
        "lines": [
            {"number": "1", "amount": amount, "taxCode": "SW054000", "itemCode": "SUB"},
            {"number": "2", "amount": 500, "taxCode": "SW054000", "itemCode": "SVC"},
        ],
        **extra,
    }


def create_or_adjust(client: httpx.Client, body: Any) -> httpx.Response:
    return client.post("/api/v2/transactions/createoradjust", json={"createTransactionModel": body})


def current_count(client: httpx.Client) -> int:
    return int(client.get("/_sandbox/state").json()["counts"]["transactions"])


def page(client: httpx.Client, url: str, **params: str) -> dict[str, Any]:
    response = client.get(url, params=params or None)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_lost_commit_answer_sent_again_keeps_one_committed_document(
    client: httpx.Client,
) -> None:
    client.put(
        "/_sandbox/faults",
        json={
            "rules": [
                {
                    "method": "POST",
                    "path": "/api/v2/transactions/createoradjust",
                    "commit_then_drop_rate": 1.0,
                    "max_count": 1,
                }
            ]
        },
    )
    body = invoice("inv-in_1", commit=True)

    with pytest.raises(httpx.TransportError):
        create_or_adjust(client, body)
    again = create_or_adjust(client, body)

    assert again.status_code == 201, again.text
    assert (again.json()["status"], again.json()["version"]) == ("Committed", 2)
    read = page(client, f"{DOCS}/inv-in_1")
    assert (read["status"], read["totalAmount"], read["totalTax"]) == ("Committed", 1500, 300)
    assert [line["lineNumber"] for line in read["lines"]] == ["1", "2"]
    assert current_count(client) == 1


def test_create_then_commit_twice_is_harmless_and_the_code_stays_reserved(
    client: httpx.Client,
) -> None:
    created = client.post("/api/v2/transactions/create", json=invoice("inv-in_2"))
    first = client.post(f"{DOCS}/inv-in_2/commit", json={"commit": True})
    second = client.post(f"{DOCS}/inv-in_2/commit", json={"commit": True})
    recreate = client.post("/api/v2/transactions/create", json=invoice("inv-in_2"))
    adjusted = create_or_adjust(client, invoice("inv-in_2", amount=2000, commit=True))

    assert created.json()["status"] == "Saved"
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["status"] == "Committed"
    assert recreate.status_code == 400
    assert recreate.json()["error"]["code"] == "DocumentCodeConflict"
    assert adjusted.status_code == 201
    read = page(client, f"{DOCS}/inv-in_2")
    assert (read["status"], read["version"], read["totalTax"]) == ("Committed", 2, 500)
    assert current_count(client) == 1


def test_committing_a_voided_document_is_refused(client: httpx.Client) -> None:
    create_or_adjust(client, invoice("inv-in_3", commit=True))
    voided = client.post(f"{DOCS}/inv-in_3/void", json={"code": "DocVoided"})

    response = client.post(f"{DOCS}/inv-in_3/commit", json={"commit": True})

    assert voided.json()["status"] == "Cancelled"
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "TransactionAlreadyCancelled"
    assert page(client, f"{DOCS}/inv-in_3")["status"] == "Cancelled"


def test_listing_pages_through_every_document_with_next_links(client: httpx.Client) -> None:
    for i in range(5):
        create_or_adjust(client, invoice(f"inv-p{i}", day=f"2024-05-0{i + 1}", commit=True))
    create_or_adjust(client, invoice("inv-june", day="2024-06-01", commit=True))
    wanted = "date between '2024-05-01' and '2024-05-31'"

    pages = [page(client, DOCS, **{"$filter": wanted, "$top": "2"})]
    while "@nextLink" in pages[-1]:
        pages.append(page(client, pages[-1]["@nextLink"]))

    assert [p["@recordsetCount"] for p in pages] == [5, 5, 5]
    codes = [doc["code"] for p in pages for doc in p["value"]]
    assert codes == [f"inv-p{i}" for i in range(5)]
    assert "lines" not in pages[0]["value"][0]
    assert pages[0]["value"][0]["status"] == "Committed"


def test_listing_filters_by_status_and_orders_by_date(client: httpx.Client) -> None:
    create_or_adjust(client, invoice("inv-a", day="2024-05-03", commit=True))
    create_or_adjust(client, invoice("inv-b", day="2024-05-01"))
    create_or_adjust(client, invoice("inv-c", day="2024-05-02", commit=True))

    committed = page(
        client,
        DOCS,
        **{
            "$filter": "status eq 'Committed' and date ge '2024-05-01'",
            "$orderBy": "date desc",
            "$include": "Lines",
        },
    )
    saved_or_c = page(
        client, DOCS, **{"$filter": "date gt '2024-01-01' and (status = 'Saved' or code = 'INV-C')"}
    )

    assert [doc["code"] for doc in committed["value"]] == ["inv-a", "inv-c"]
    assert len(committed["value"][0]["lines"]) == 2
    assert [doc["code"] for doc in saved_or_c["value"]] == ["inv-b", "inv-c"]


def test_without_a_date_criterion_only_the_last_30_days_are_listed(client: httpx.Client) -> None:
    today = datetime.now(UTC).date().isoformat()
    create_or_adjust(client, invoice("inv-old", day="2024-05-01"))
    create_or_adjust(client, invoice("inv-new", day=today))

    listed = page(client, DOCS)

    assert [doc["code"] for doc in listed["value"]] == ["inv-new"]


@pytest.mark.parametrize(
    ("text", "code", "number"),
    [
        ("date eq", "MalformedFilterException", 182),
        ("code eq 'a' status eq 'Saved'", "ExpectedConjunctionError", 183),
        ("colour eq 'red'", "CriteriaNotSupportedError", 184),
    ],
)
def test_a_bad_filter_is_refused(client: httpx.Client, text: str, code: str, number: int) -> None:
    response = client.get(DOCS, params={"$filter": text})

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"][0]["number"]) == (code, number)
