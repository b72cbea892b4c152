"""Hostile JSON bodies on every route that reads JSON (Stripe and CRM webhooks, events,
orders, replays, exception actions and assignment): nested 10,000 levels deep, lone
surrogates escaped or as raw bytes, bytes that are not UTF-8, NaN and NUL are refused with a
precise problem, and nothing is stored, on SQLite and PostgreSQL. The JetStream ingress
reads with the same reader."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from hostile_bodies import CORPUS
from sqlalchemy import Engine, func, select

from revbridge.config.policy import Policy
from revbridge.connectors.salesforce import build
from revbridge.connectors.stripe.events import sign
from revbridge.ingress import nats_consumer
from revbridge.store.tables import audit_log, event_log, inbox, order_packages
from revbridge.testing.servers import serve

PROBLEM = "application/problem+json"
STRIPE_SECRET = "whsec_test_5b1f0c2e9a7d4e3f8a6b"
PUSH_SECRET = "whsec_" + base64.b64encode(b"push-secret-of-32-bytes-exactly!").decode()
Signer = Callable[[bytes], dict[str, str]]
JSON = {"content-type": "application/json"}


def _stored(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [
            int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (inbox, event_log, audit_log, order_packages)
        ]


def _stripe(body: bytes) -> dict[str, str]:
    return {"Stripe-Signature": sign(STRIPE_SECRET, body, int(time.time()))}


def _pushed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    key = base64.b64decode(PUSH_SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f"push-1.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": "push-1",
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def _unsigned(body: bytes) -> dict[str, str]:
    return {}


@pytest.fixture
def pushing_app(make_app: Callable[..., FastAPI], policy: Policy) -> FastAPI:
    """The API with the real Salesforce adapter receiving pushed change events."""
    env = {"SF_CLIENT_ID": "id", "SF_CLIENT_SECRET": "s", "SF_CDC_WEBHOOK_SECRET": PUSH_SECRET}
    crm = build("salesforce", policy.systems["salesforce"], env)  # type: ignore[arg-type]
    return make_app(receivers={"salesforce": crm.pushed_changes})


def _routes(case_id: str) -> list[tuple[str, dict[str, str], Signer]]:
    """Every route that reads JSON, with and without a JSON content type where it may."""
    return [
        ("/v1/webhooks/stripe", {}, _stripe),
        ("/v1/webhooks/stripe", JSON, _stripe),
        ("/v1/webhooks/salesforce/changes", {}, _pushed),
        ("/v1/webhooks/salesforce/changes", JSON, _pushed),
        ("/v1/events", {"content-type": "application/cloudevents+json"}, _unsigned),
        ("/v1/events", JSON, _unsigned),
        ("/v1/orders", JSON, _unsigned),
        ("/v1/replays", JSON, _unsigned),
        (f"/v1/exceptions/{case_id}/actions", JSON, _unsigned),
        (f"/v1/exceptions/{case_id}/assign", JSON, _unsigned),
    ]


@pytest.mark.parametrize("name", list(CORPUS))
def test_a_hostile_body_is_a_precise_problem_on_every_json_route_and_stores_nothing(
    pushing_app: FastAPI,
    auth: dict[str, dict[str, str]],
    store_engine: Engine,
    make_case: Callable[[str], str],
    name: str,
) -> None:
    body, status, words = CORPUS[name]
    routes = _routes(make_case("sales_ops"))
    before = _stored(store_engine)
    wrong = []
    with serve(pushing_app) as base, httpx.Client(base_url=base, timeout=30) as http:
        for path, headers, signer in routes:
            answer = http.post(
                path, content=body, headers={**auth["admin"], **headers, **signer(body)}
            )
            kind = answer.headers["content-type"]
            detail = answer.json().get("detail", "") if kind == PROBLEM else ""
            if (answer.status_code, kind) != (status, PROBLEM) or words not in detail:
                wrong.append((path, headers, answer.status_code, answer.text[:300]))
    assert wrong == []
    assert _stored(store_engine) == before


def test_a_binary_mode_event_whose_data_is_deep_is_400_and_stores_nothing(
    client: httpx.Client, auth: dict[str, dict[str, str]], store_engine: Engine
) -> None:
    headers = {
        **auth["admin"],
        "ce-specversion": "1.0",
        "ce-id": "e-deep",
        "ce-source": "/portal",
        "ce-type": "com.revbridge.exception.raised",
        "ce-correlationid": "corr-deep",
    }
    answer = client.post("/v1/events", content=CORPUS["deep-object"][0], headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert "nested deeper than 64 levels" in answer.json()["detail"]
    assert _stored(store_engine) == [0, 0, 0, 0]


def test_a_signed_stripe_event_with_a_lone_surrogate_in_its_id_is_400(
    client: httpx.Client, store_engine: Engine
) -> None:
    body = json.dumps({"id": "evt_\ud800", "object": "event", "type": "invoice.paid"}).encode()
    answer = client.post("/v1/webhooks/stripe", content=body, headers=_stripe(body))
    assert answer.status_code == 400, answer.text
    assert answer.json()["detail"] == "id holds a lone surrogate \\ud800"
    assert _stored(store_engine) == [0, 0, 0, 0]


def test_names_in_any_script_still_pass_and_are_stored_as_sent(
    client: httpx.Client, store_engine: Engine
) -> None:
    name = "شركة الأمل — 東京支社 — Müller & Søn 😀"
    event = {
        "id": "evt_1Unicode",
        "object": "event",
        "type": "invoice.paid",
        "data": {"object": {"id": "in_1Uni", "customer": "cus_1", "name": name}},
    }
    body = json.dumps(event).encode()  # escapes as \uXXXX, the emoji as a surrogate pair
    answer = client.post("/v1/webhooks/stripe", content=body, headers=_stripe(body))
    assert answer.status_code == 200, answer.text
    with store_engine.connect() as conn:
        payload = conn.execute(select(inbox.c.payload)).scalar_one()
    assert payload["data"]["object"]["name"] == name


@pytest.mark.parametrize("name", list(CORPUS))
def test_the_jetstream_ingress_rejects_the_corpus_as_invalid_events(name: str) -> None:
    body, _status, words = CORPUS[name]
    with pytest.raises(nats_consumer.InvalidEventError, match="not JSON") as raised:
        nats_consumer.parse(body)
    assert words in str(raised.value)
