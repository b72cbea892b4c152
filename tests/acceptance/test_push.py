"""Change events pushed by the CRM: duplicated and reordered deliveries book one deal once;
forged, oversized and malformed pushes are refused with a problem and record nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
from acceptance_stack import Stack

from revbridge.store import inbox
from revbridge.testing.estate import SANDBOX_ENV
from revbridge.testing.servers import free_port

SECRET = SANDBOX_ENV["SF_CDC_WEBHOOK_SECRET"]


def _signed(body: bytes, event_id: str = "evt-1", secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{event_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": event_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def _inbox(stack: Stack) -> int:
    with stack.engine.connect() as conn:
        return inbox.count(conn)


def _listening(url: str) -> bool:
    """The worker answers pushes (an unsigned one is refused: it is up)."""
    try:
        return httpx.post(url, content=b"{}", timeout=2).status_code < 500
    except httpx.TransportError:
        return False


def test_pushed_duplicates_and_reorders_book_the_deal_once(stack: Stack) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/salesforce/changes"
    opportunities = [stack.uk_deal(), stack.uk_deal("Initech Holdings", Name="Initech UK")]
    stack.worker({}, "--webhooks", f"127.0.0.1:{port}", "--poll", "0")
    stack.wait("the worker receiving pushes", lambda: _listening(url))  # a slow start-up
    sf = stack.estate.urls["salesforce"]
    assert httpx.post(
        f"{sf}/_sandbox/cdc/subscribers", json={"url": url, "secret": SECRET}, timeout=10
    ).status_code in (200, 201)
    httpx.put(
        f"{sf}/_sandbox/faults", json={"webhooks": {"duplicate_rate": 1.0, "reorder_rate": 0.5}}
    )
    stack.close(*opportunities)
    for opportunity in opportunities:
        stack.activated(opportunity)
    counts = stack.counts()
    assert (counts["erp_orders"], counts["subscriptions"], counts["tax_documents"]) == (2, 2, 2)
    delivery = httpx.get(f"{sf}/_sandbox/state").json()["cdc_delivery"]
    assert delivery["duplicated"] >= 2  # every closed-won event arrived at least twice


def test_forged_oversized_and_malformed_pushes_are_refused_and_record_nothing(
    stack: Stack,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/salesforce/changes"
    stack.worker({}, "--webhooks", f"127.0.0.1:{port}", "--poll", "0")
    body = json.dumps({"payload": {"ChangeEventHeader": {"entityName": "Opportunity"}}}).encode()

    def post(data: bytes, headers: dict[str, str], target: str = url) -> httpx.Response:
        for _ in range(100):
            try:
                return httpx.post(target, content=data, headers=headers, timeout=10)
            except httpx.ConnectError:
                time.sleep(0.1)
        raise AssertionError("webhook server did not start")

    forged = post(body, _signed(body, secret="whsec_" + base64.b64encode(b"wrong").decode()))
    stale = _signed(body)
    stale["webhook-timestamp"] = str(int(time.time()) - 600)
    answers = {
        "forged": forged,
        "unsigned": post(body, {}),
        "stale": post(body, stale),
        "malformed": post(b"{not json", _signed(b"{not json")),
        "oversized": post(b"x" * (1 << 21), _signed(b"x")),
        "unknown": post(body, _signed(body), url.replace("salesforce", "hubspot")),
    }
    statuses = {name: r.status_code for name, r in answers.items()}
    assert statuses == {
        "forged": 401,
        "unsigned": 401,
        "stale": 401,
        "malformed": 400,
        "oversized": 413,
        "unknown": 404,
    }
    for response in answers.values():
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code
    assert _inbox(stack) == 0
