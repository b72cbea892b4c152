"""Idempotency-Key on POSTs, with Stripe's semantics: one effect, the same answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from revbridge.store import idempotency
from revbridge.store.tables import audit_log, event_log, inbox


def _event(event_id: str) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": "/partner-portal",
            "type": "com.revbridge.exception.raised",
            "correlationid": "corr-idem",
            "data": {"note": "hello"},
        }
    ).encode()


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_the_same_key_twice_gives_the_same_answer_and_one_effect(
    client: httpx.Client, auth: dict[str, dict[str, str]], store_engine: Engine
) -> None:
    headers = {
        **auth["integration_support"],
        "content-type": "application/cloudevents+json",
        "Idempotency-Key": "req-0001",
    }
    first = client.post("/v1/events", content=_event("e-1"), headers=headers)
    assert first.status_code == 202, first.text
    audit_rows = _count(store_engine, audit_log)
    second = client.post("/v1/events", content=_event("e-1"), headers=headers)
    assert second.status_code == first.status_code
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert _count(store_engine, inbox) == 1
    assert _count(store_engine, event_log) == 1
    assert _count(store_engine, audit_log) == audit_rows


def test_the_same_key_with_another_body_or_path_is_a_422_conflict(
    client: httpx.Client, auth: dict[str, dict[str, str]], store_engine: Engine
) -> None:
    headers = {
        **auth["admin"],
        "content-type": "application/cloudevents+json",
        "Idempotency-Key": "req-0002",
    }
    assert client.post("/v1/events", content=_event("e-2"), headers=headers).status_code == 202
    other = client.post("/v1/events", content=_event("e-3"), headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"].endswith("/idempotency-key-reused")
    elsewhere = client.post("/v1/replays", content=_event("e-2"), headers=headers)
    assert elsewhere.status_code == 422
    assert _count(store_engine, inbox) == 1


def test_keys_belong_to_one_api_key(
    client: httpx.Client, auth: dict[str, dict[str, str]], store_engine: Engine
) -> None:
    for role in ("admin", "integration_support"):
        headers = {
            **auth[role],
            "content-type": "application/cloudevents+json",
            "Idempotency-Key": "shared-name",
        }
        answer = client.post("/v1/events", content=_event(f"e-{role}"), headers=headers)
        assert answer.status_code == 202
        assert "idempotent-replayed" not in answer.headers
    assert _count(store_engine, inbox) == 2


def test_a_request_still_running_with_the_key_is_409(
    client: httpx.Client, auth: dict[str, dict[str, str]], store_engine: Engine
) -> None:
    answer = client.get("/v1/deals", headers=auth["admin"])
    assert answer.status_code == 200
    with store_engine.begin() as conn:
        key_id = auth["admin"]["Authorization"].split("_")[1]
        assert idempotency.claim(conn, key_id, "in-flight", "f" * 64) is None
    busy = client.post(
        "/v1/events",
        content=_event("e-9"),
        headers={**auth["admin"], "Idempotency-Key": "in-flight"},
    )
    assert busy.status_code == 409
    assert busy.json()["type"].endswith("/idempotency-key-in-use")


def test_a_claim_abandoned_by_a_crashed_request_is_taken_over_by_a_retry(
    client: httpx.Client, auth: dict[str, dict[str, str]], store_engine: Engine
) -> None:
    key_id = auth["admin"]["Authorization"].split("_")[1]
    long_ago = datetime.now(UTC) - idempotency.ABANDONED - timedelta(seconds=1)
    with store_engine.begin() as conn:  # the process that claimed it died mid-request
        assert idempotency.claim(conn, key_id, "crashed", "f" * 64, now=long_ago) is None
    headers = {
        **auth["admin"],
        "content-type": "application/cloudevents+json",
        "Idempotency-Key": "crashed",
    }
    retried = client.post("/v1/events", content=_event("e-crash"), headers=headers)
    assert retried.status_code == 202, retried.text
    again = client.post("/v1/events", content=_event("e-crash"), headers=headers)
    assert again.status_code == 202
    assert again.headers.get("idempotent-replayed") == "true"
    assert _count(store_engine, inbox) == 1


def test_refused_requests_do_not_use_up_the_key(
    client: httpx.Client, auth: dict[str, dict[str, str]]
) -> None:
    headers = {"content-type": "application/cloudevents+json", "Idempotency-Key": "k-403"}
    refused = client.post(
        "/v1/events", content=_event("e-5"), headers={**auth["auditor"], **headers}
    )
    assert refused.status_code == 403
    again = client.post("/v1/events", content=_event("e-5"), headers={**auth["auditor"], **headers})
    assert again.status_code == 403
    assert "idempotent-replayed" not in again.headers


def test_old_keys_are_purged(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        idempotency.claim(conn, "k", "old", "a" * 64)
        assert idempotency.purge(conn, older_than=idempotency.RETENTION) == 0
        assert idempotency.purge(conn, older_than=timedelta(seconds=-1)) == 1
