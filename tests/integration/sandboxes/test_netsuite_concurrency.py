"""NetSuite sandbox: the account concurrency limit and injected faults."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.netsuite import DEFAULT_BEARER_TOKEN, create_app

AUTH = {"Authorization": f"Bearer {DEFAULT_BEARER_TOKEN}"}
REC = "/services/rest/record/v1"
CUSTOMER = {"companyName": "Retry Co", "subsidiary": {"id": "2"}}


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with serve(create_app(concurrency_limit=5)) as url:
        yield url


@pytest.fixture
def ns(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, headers=AUTH, timeout=10) as client:
        client.post("/_sandbox/reset")
        client.put("/_sandbox/netsuite/config", json={"concurrency_limit": 5, "service_time_ms": 0})
        yield client


def concurrency(ns: httpx.Client) -> dict[str, Any]:
    figures: dict[str, Any] = ns.get("/_sandbox/state").json()["concurrency"]
    return figures


def test_requests_over_the_account_limit_get_429(ns: httpx.Client, base: str) -> None:
    ns.put("/_sandbox/netsuite/config", json={"service_time_ms": 400})
    limits = httpx.Limits(max_connections=12)
    with (
        httpx.Client(base_url=base, headers=AUTH, timeout=10, limits=limits) as shared,
        ThreadPoolExecutor(max_workers=12) as pool,
    ):
        answers = list(pool.map(lambda _: shared.get(f"{REC}/subsidiary/2"), range(12)))

    statuses = sorted(a.status_code for a in answers)
    rejected = [a for a in answers if a.status_code == 429]
    figures = concurrency(ns)
    assert set(statuses) == {200, 429}
    assert statuses.count(200) >= 5
    assert figures["peak"] == 5
    assert figures["rejected"] == len(rejected)
    assert figures["in_flight"] == 0
    assert "retry-after" not in rejected[0].headers
    assert (
        rejected[0]
        .headers["content-type"]
        .startswith("application/vnd.oracle.resource+json; type=error")
    )
    assert rejected[0].json() == {
        "type": "https://tools.ietf.org/html/rfc6585#section-4",
        "title": "Too Many Requests",
        "status": 429,
        "o:errorDetails": [
            {
                "detail": "Concurrent request limit exceeded. Request blocked.",
                "o:errorCode": "CONCURRENCY_LIMIT_EXCEEDED",
            }
        ],
    }


def test_requests_one_at_a_time_never_hit_the_limit(ns: httpx.Client) -> None:
    ns.put("/_sandbox/netsuite/config", json={"concurrency_limit": 1})

    statuses = {ns.get(f"{REC}/subsidiary/{i}").status_code for i in (1, 2, 3, 4)}

    assert statuses == {200}
    assert concurrency(ns)["rejected"] == 0


def test_injected_faults_use_the_netsuite_error_shape(ns: httpx.Client) -> None:
    ns.put(
        "/_sandbox/faults",
        json={
            "seed": 1,
            "rules": [
                {"method": "GET", "path": f"{REC}/subsidiary/1", "errors": {"429": 1.0}},
                {"method": "GET", "path": f"{REC}/subsidiary/2", "errors": {"503": 1.0}},
            ],
        },
    )

    throttled = ns.get(f"{REC}/subsidiary/1")
    unavailable = ns.get(f"{REC}/subsidiary/2")

    assert throttled.status_code == 429
    assert "retry-after" not in throttled.headers
    assert throttled.json()["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
    assert unavailable.status_code == 503
    assert unavailable.headers["content-type"].startswith(
        "application/vnd.oracle.resource+json; type=error"
    )
    assert unavailable.json()["title"] == "Service Unavailable"


def test_upsert_dropped_after_commit_and_retried_leaves_one_record(ns: httpx.Client) -> None:
    ns.put(
        "/_sandbox/faults",
        json={
            "rules": [
                {"method": "PUT", "path": f"{REC}/customer/eid:*", "commit_then_drop_rate": 1.0},
            ]
        },
    )
    url = f"{REC}/customer/eid:SF-DROP-1"

    attempts, answer = 0, None
    while answer is None:
        attempts += 1
        try:
            answer = ns.put(url, json=CUSTOMER)
        except httpx.TransportError:
            ns.put("/_sandbox/faults", json={})  # the network recovers before the retry

    assert attempts == 2
    assert answer.status_code == 204
    state = ns.get("/_sandbox/state").json()
    assert state["counts"]["customer"] == 1
    assert state["_faults"]["commit_then_drop"] == 1
    assert ns.get(url).json()["companyName"] == "Retry Co"


def test_post_dropped_after_commit_then_retried_finds_the_external_id_taken(
    ns: httpx.Client,
) -> None:
    ns.put(
        "/_sandbox/faults",
        json={
            "rules": [
                {"method": "POST", "path": f"{REC}/customer", "commit_then_drop_rate": 1.0},
            ]
        },
    )
    body = {**CUSTOMER, "externalId": "SF-DROP-2"}

    with pytest.raises(httpx.TransportError):
        ns.post(f"{REC}/customer", json=body)
    ns.put("/_sandbox/faults", json={})
    retry = ns.post(f"{REC}/customer", json=body)

    assert retry.status_code == 400
    assert retry.json()["o:errorDetails"][0]["o:errorPath"] == "externalId"
    assert ns.get(f"{REC}/customer/eid:SF-DROP-2").status_code == 200
