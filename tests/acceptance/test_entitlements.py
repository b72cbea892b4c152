"""Entitlement activation end to end: a real worker posts signed activations to a real
HTTP receiver, which dedupes by ``webhook-id`` as Standard Webhooks receivers do."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from acceptance_stack import Stack
from standardwebhooks.webhooks import Webhook

from revbridge.cases.model import ExceptionCase
from revbridge.flows.entitlements import case_key, webhook_id
from revbridge.store import cases
from revbridge.store import entitlements as activations
from revbridge.stream import sql_log

PROVISIONING_SECRET = "whsec_" + base64.b64encode(b"acceptance-provisioning-key").decode()
LICENSING_SECRET = "whsec_" + base64.b64encode(b"acceptance-licensing-key").decode()


class Receiver:
    """A provisioning endpoint: answers each path's scripted statuses in turn (then 200),
    verifies every signature, and applies an activation once per webhook-id."""

    def __init__(self) -> None:
        self.script: dict[str, list[int]] = {}
        self.secrets: dict[str, str] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.applied: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                status = receiver.answer(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        verified = Webhook(self.secrets[path]).verify(body, headers)  # raises when forged
        with self.lock:
            script = self.script.get(path, [])
            status = script.pop(0) if script else 200
            self.deliveries.append({"path": path, "headers": headers, "status": status})
            if status < 300:
                self.applied.setdefault(headers["webhook-id"], verified)
        return status

    def of(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [d for d in self.deliveries if d["path"] == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


def test_activation_reaches_a_flaky_endpoint_once_and_a_refusal_opens_a_case(
    stack: Stack, receiver: Receiver
) -> None:
    receiver.secrets = {"/activations": PROVISIONING_SECRET, "/licences": LICENSING_SECRET}
    receiver.script = {"/activations": [500, 500], "/licences": [400]}
    with stack.policy.open("a", encoding="utf-8") as policy:
        policy.write(
            "\nentitlements:\n  trigger: subscription_active\n  endpoints:\n"
            f"    - name: provisioning\n      url: {receiver.url}/activations\n"
            "      secret: {env: REVBRIDGE_PROVISIONING_SECRET}\n"
            f"    - name: licensing\n      url: {receiver.url}/licences\n"
            "      secret: {env: REVBRIDGE_LICENSING_SECRET}\n"
        )
    opportunity = stack.uk_deal()
    stack.worker(
        {
            "REVBRIDGE_PROVISIONING_SECRET": PROVISIONING_SECRET,
            "REVBRIDGE_LICENSING_SECRET": LICENSING_SECRET,
        }
    )
    stack.close(opportunity)
    deal = stack.activated(opportunity)
    rejected = case_key(deal.deal_key, "licensing")

    def open_case() -> ExceptionCase | None:
        with stack.engine.connect() as conn:
            return cases.open_for_deal(conn, rejected)

    case = stack.wait("the licensing endpoint's case", open_case)

    # the flaky endpoint: two 500s retried with backoff, then applied once, never sent again
    sent = receiver.of("/activations")
    assert [d["status"] for d in sent] == [500, 500, 200]
    assert {d["headers"]["webhook-id"] for d in sent} == {webhook_id(deal.deal_key, "provisioning")}
    [applied] = [a for a in receiver.applied.values() if a["deal"] == deal.deal_key]
    assert applied["type"] == "entitlement.activated"
    assert applied["correlation_id"] == deal.correlation_id
    assert applied["legal_entity"] == "ACME-UK"
    assert {p["sku"] for p in applied["products"]} == {
        "SUB-PLATFORM-ANNUAL",
        "SVC-IMPLEMENTATION",
        "USG-API-CALLS",
    }
    assert applied["term"] == {"start": "2027-01-01", "end": "2027-12-31"}

    # the refusing endpoint: one delivery (a 400 is not retried), a case, no record
    assert [d["status"] for d in receiver.of("/licences")] == [400]
    assert case.failure_class == "entitlements.rejected"
    assert str(case.owner) == "integration_support"
    with stack.engine.connect() as conn:
        assert activations.activated_endpoints(conn, deal.deal_key) == {"provisioning"}
    events = [
        e
        for e in sql_log.read(stack.engine, limit=10_000)
        if e.event_type.endswith(".entitlement.activated") and e.subject == deal.deal_key
    ]
    assert [e.event["data"]["endpoint"] for e in events] == ["provisioning"]

    # the owner fixed the receiver and retries: delivered, recorded, the case resolved
    result = stack.revbridge("exceptions", "retry", case.case_id)
    assert result.returncode == 0, result.stderr

    def licensed() -> bool:
        with stack.engine.connect() as conn:
            done = activations.activated_endpoints(conn, deal.deal_key)
        return done == {"provisioning", "licensing"} and open_case() is None

    stack.wait("the licensing endpoint activated", licensed)
    assert [d["status"] for d in receiver.of("/licences")] == [400, 200]
    assert len(receiver.of("/activations")) == 3
    assert len(receiver.applied) == 2  # one activation per endpoint, each applied once
    logs = "\n".join(w.log.read_text() for w in stack.workers)
    assert PROVISIONING_SECRET.removeprefix("whsec_") not in logs
    assert LICENSING_SECRET.removeprefix("whsec_") not in logs
    assert json.dumps(applied)  # the applied body is plain JSON
