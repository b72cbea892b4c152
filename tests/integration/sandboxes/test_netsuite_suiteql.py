"""NetSuite sandbox: SuiteQL over REST (``POST /services/rest/query/v1/suiteql``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.netsuite import DEFAULT_BEARER_TOKEN, create_app

AUTH = {"Authorization": f"Bearer {DEFAULT_BEARER_TOKEN}"}
REC = "/services/rest/record/v1"
SUITEQL = "/services/rest/query/v1/suiteql"


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    """One account holding five customers (two in the UK) and two orders, one invoiced."""
    with (
        serve(create_app(approval_delay_s=0)) as base,
        httpx.Client(base_url=base, headers=AUTH, timeout=10) as ns,
    ):
        for i in range(5):
            uk = i % 2 == 1
            body = {
                "companyName": f"Customer {i}",
                "subsidiary": {"id": "3" if uk else "2"},
                "externalId": f"SF-{i}",
                "email": f"ap{i}@example.com" if i != 4 else None,
            }
            assert ns.post(f"{REC}/customer", json=body).status_code == 204
        line = {"item": {"id": "204"}, "quantity": 2, "class": {"id": "200"}}
        for eid in ("SF-OPP-1", "SF-OPP-2"):
            order = {
                "entity": {"externalId": "SF-0"},
                "department": {"id": "20"},
                "externalId": eid,
                "item": {"items": [line]},
            }
            assert ns.post(f"{REC}/salesOrder", json=order).status_code == 204
        so = ns.get(f"{REC}/salesOrder/eid:SF-OPP-2").json()["id"]
        assert ns.post(f"{REC}/salesOrder/{so}/!transform/invoice").status_code == 204
        yield ns


def query(ns: httpx.Client, q: str, **params: Any) -> httpx.Response:
    return ns.post(SUITEQL, params=params, json={"q": q}, headers={"Prefer": "transient"})


def rows(ns: httpx.Client, q: str) -> list[dict[str, Any]]:
    response = query(ns, q)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_suiteql_without_prefer_transient_is_refused(client: httpx.Client) -> None:
    response = client.post(SUITEQL, json={"q": "SELECT id FROM customer"})

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(
        "application/vnd.oracle.resource+json; type=error"
    )
    detail = response.json()["o:errorDetails"][0]
    assert (detail["o:errorCode"], detail["o:errorHeader"]) == ("INVALID_HEADER", "Prefer")


def test_suiteql_pages_with_has_more_and_links(client: httpx.Client) -> None:
    first = query(client, "SELECT id, companyname FROM customer ORDER BY id", limit=2).json()
    last = query(client, "SELECT id, companyname FROM customer ORDER BY id", limit=2, offset=4)

    assert (first["count"], first["hasMore"], first["offset"], first["totalResults"]) == (
        2,
        True,
        0,
        5,
    )
    links = {link["rel"]: link["href"] for link in first["links"]}
    assert links["next"].endswith(f"{SUITEQL}?limit=2&offset=2")
    assert links["last"].endswith(f"{SUITEQL}?limit=2&offset=4")
    assert (last.json()["count"], last.json()["hasMore"]) == (1, False)
    assert {link["rel"] for link in last.json()["links"]} == {"previous", "first", "self"}


def test_suiteql_rows_have_lower_case_string_columns(client: httpx.Client) -> None:
    found = rows(
        client,
        "SELECT T.ID, T.TranId, T.type, T.status, T.foreignTotal, T.entity "
        "FROM Transaction T WHERE T.type = 'SalesOrd' ORDER BY T.id",
    )

    assert [sorted(row) for row in found] == [
        ["entity", "foreigntotal", "id", "links", "status", "tranid", "type"]
    ] * 2
    assert found[0]["links"] == []
    assert (found[0]["status"], found[1]["status"]) == ("B", "G")
    assert found[0]["foreigntotal"] == "1800"
    assert all(isinstance(value, str) for row in found for k, value in row.items() if k != "links")


def test_suiteql_filters_with_in_like_is_null_and_or(client: httpx.Client) -> None:
    in_uk = rows(client, "SELECT externalid FROM customer WHERE subsidiary IN (3) ORDER BY id")
    liked = rows(client, "SELECT entityid FROM customer WHERE companyname LIKE 'Customer _'")
    no_mail = rows(client, "SELECT externalid FROM customer WHERE email IS NULL")
    either = rows(
        client,
        "SELECT externalid FROM customer WHERE externalid = 'SF-0' OR (subsidiary = 3 "
        "AND email LIKE '%3@%') ORDER BY externalid DESC",
    )
    negated = rows(client, "SELECT id FROM customer WHERE NOT subsidiary != 2")

    assert [r["externalid"] for r in in_uk] == ["SF-1", "SF-3"]
    assert len(liked) == 5
    assert no_mail == [{"links": [], "externalid": "SF-4"}]
    assert [r["externalid"] for r in either] == ["SF-3", "SF-0"]
    assert len(negated) == 3


def test_suiteql_reads_invoices_and_reference_tables(client: httpx.Client) -> None:
    invoices = rows(
        client,
        "SELECT id, tranid, status, createdfrom, foreignamountremaining FROM transaction "
        "WHERE type = 'CustInvc'",
    )
    items = rows(client, "SELECT itemid, itemtype FROM item WHERE externalid LIKE 'USG-%'")
    subs = rows(client, "SELECT id, name, country FROM subsidiary WHERE parent IS NOT NULL")

    assert len(invoices) == 1
    assert invoices[0]["status"] == "A"
    assert invoices[0]["tranid"].startswith("INV")
    assert {i["itemtype"] for i in items} == {"NonInvtPart"}
    assert [s["country"] for s in subs] == ["US", "GB", "DE"]


def test_suiteql_count(client: httpx.Client) -> None:
    assert rows(client, "SELECT COUNT(*) AS n FROM customer WHERE subsidiary = 2") == [
        {"links": [], "n": "3"}
    ]


@pytest.mark.parametrize(
    ("q", "fragment"),
    [
        ("SELECT id FROM widget", "Invalid search type: widget"),
        ("SELECT colour FROM customer", "Field 'colour' for record 'customer' was not found"),
        ("SELECT id FROM customer WHERE", "Invalid or unsupported search"),
        ("DELETE FROM customer", "Invalid or unsupported search"),
    ],
)
def test_suiteql_outside_the_schema_is_400_invalid_search(
    client: httpx.Client, q: str, fragment: str
) -> None:
    response = query(client, q)

    assert response.status_code == 400
    detail = response.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_PARAMETER"
    assert detail["detail"].startswith("Invalid search query.")
    assert fragment in detail["detail"]


def test_suiteql_page_size_is_at_most_1000(client: httpx.Client) -> None:
    response = query(client, "SELECT id FROM customer", limit=1001)

    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorQueryParam"] == "limit"


def test_suiteql_body_with_unknown_members_is_invalid_content(client: httpx.Client) -> None:
    response = client.post(
        SUITEQL, json={"q": "SELECT id FROM customer", "p": [1]}, headers={"Prefer": "transient"}
    )

    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_CONTENT"
