"""Stripe webhooks: only correctly signed, fresh events are recorded, once, and start the
invoice's run."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from conftest import Recorder
from sqlalchemy import Engine

from revbridge.connectors.stripe.events import sign
from revbridge.observability.business_metrics import order_to_invoice_seconds
from revbridge.store import deals, inbox
from revbridge.store.deals import Stage
from revbridge.stream import sql_log

SECRET = "whsec_test_5b1f0c2e9a7d4e3f8a6b"


def _paid(event_id: str = "evt_1PaidInvoice") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "invoice.paid",
            "data": {
                "object": {
                    "id": "in_1Abc",
                    "object": "invoice",
                    "customer": "cus_42",
                    "metadata": {"correlation_id": "corr-stripe-1"},
                }
            },
        }
    ).encode()


def _inbox_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return inbox.count(conn)


def test_a_signed_event_is_recorded_once_and_starts_its_invoice_run_once(
    client: httpx.Client, store_engine: Engine, recorder: Recorder
) -> None:
    body = _paid()
    headers = {"Stripe-Signature": sign(SECRET, body, int(time.time()))}
    first = client.post("/v1/webhooks/stripe", content=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "new"
    assert first.json()["canonical_type"] == "com.revbridge.payment.received"
    again = client.post("/v1/webhooks/stripe", content=body, headers=headers)
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert _inbox_count(store_engine) == 1
    # the run is started on each delivery (enqueueing attaches to a run of the same id)
    assert [(invoice, phase) for invoice, phase, _ in recorder.settles] == [
        ("stripe:in_1Abc", "paid"),
        ("stripe:in_1Abc", "paid"),
    ]
    # what it means reaches the event log once the ERP has it (the receivables flow)
    assert sql_log.read(store_engine) == []


def test_events_that_start_no_run_are_recorded_only(
    client: httpx.Client, store_engine: Engine, recorder: Recorder
) -> None:
    event = json.loads(_paid("evt_3Updated"))
    event["type"] = "invoice.updated"
    body = json.dumps(event).encode()
    answer = client.post(
        "/v1/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": sign(SECRET, body, int(time.time()))},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["canonical_type"] is None
    assert _inbox_count(store_engine) == 1
    assert recorder.settles == []


def _forged(body: bytes) -> dict[str, str]:
    return {"Stripe-Signature": sign("whsec_someone_else_entirely", body, int(time.time()))}


def _expired(body: bytes) -> dict[str, str]:
    return {"Stripe-Signature": sign(SECRET, body, int(time.time()) - 301)}


def _tampered(body: bytes) -> dict[str, str]:
    return {
        "Stripe-Signature": sign(SECRET, body.replace(b"in_1Abc", b"in_2Xyz"), int(time.time()))
    }


def _future(body: bytes) -> dict[str, str]:
    return {"Stripe-Signature": sign(SECRET, body, int(time.time()) + 400)}


@pytest.mark.parametrize(
    "headers",
    [
        _forged,
        _expired,
        _tampered,
        _future,
        lambda body: {},
        lambda body: {"Stripe-Signature": "t=abc,v1="},
        lambda body: {"Stripe-Signature": "garbage"},
    ],
    ids=["forged", "expired", "tampered", "future", "unsigned", "empty", "garbage"],
)
def test_a_bad_signature_is_400_and_stores_nothing(
    client: httpx.Client, store_engine: Engine, headers: Any
) -> None:
    body = _paid()
    answer = client.post("/v1/webhooks/stripe", content=body, headers=headers(body))
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/signature")
    assert _inbox_count(store_engine) == 0
    assert sql_log.read(store_engine) == []


def test_any_matching_v1_is_accepted(client: httpx.Client, store_engine: Engine) -> None:
    body = _paid("evt_2Rolling")
    now = int(time.time())
    good = sign(SECRET, body, now).split(",")[1]
    header = f"t={now},v1={'0' * 64},{good}"
    answer = client.post("/v1/webhooks/stripe", content=body, headers={"Stripe-Signature": header})
    assert answer.status_code == 200, answer.text
    assert _inbox_count(store_engine) == 1


def test_a_signed_body_that_is_not_json_is_400(client: httpx.Client, store_engine: Engine) -> None:
    body = b"{not json"
    answer = client.post(
        "/v1/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": sign(SECRET, body, int(time.time()))},
    )
    assert answer.status_code == 400
    assert _inbox_count(store_engine) == 0


def test_the_first_invoice_of_a_deal_measures_order_to_invoice(store_engine: Engine) -> None:
    accepted = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    with store_engine.begin() as conn:
        deals.register(conn, "salesforce:006INV", "wf-inv", "corr-inv-1", accepted)
        deals.advance(conn, "salesforce:006INV", Stage.ACCEPTED, accepted_at=accepted)
        # the second invoice (a year later) is carried first; the first one still counts
        for issued in (accepted.replace(year=2028), accepted):
            assert deals.mark_invoiced(conn, "corr-inv-1", issued + timedelta(hours=2))
        assert not deals.mark_invoiced(conn, "corr-unknown", accepted)
    with store_engine.connect() as conn:
        deal = deals.get(conn, "salesforce:006INV")
        waits = list(order_to_invoice_seconds(conn))
    assert deal is not None
    assert deal.invoiced_at == accepted + timedelta(hours=2)
    assert waits == [7200.0]
