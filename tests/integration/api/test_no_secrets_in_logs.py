"""A full API run with keys, bearer tokens and webhook secrets logs none of them."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
import pytest

from revbridge.connectors.stripe.events import sign
from revbridge.testing.servers import serve

STRIPE_SECRET = "whsec_test_5b1f0c2e9a7d4e3f8a6b"


def test_no_key_token_or_webhook_secret_reaches_the_logs(
    make_app: Any,
    keys: dict[str, str],
    make_case: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    case_id = make_case("sales_ops")
    app = make_app()
    with serve(app) as base, httpx.Client(base_url=base) as http:
        for role, token in keys.items():
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"k-{role}"}
            for path in ("/v1/deals", "/v1/exceptions", "/v1/audit", "/v1/invoices/none"):
                http.get(path, headers=headers)
            http.post(f"/v1/exceptions/{case_id}/assign", json={"assignee": role}, headers=headers)
            http.post("/v1/events", content=b"{broken", headers=headers)
            http.post("/v1/replays", json={"deal": "salesforce:006A0000001"}, headers=headers)
        body = json.dumps({"id": "evt_logs", "type": "invoice.paid", "data": {"object": {}}})
        http.post(
            "/v1/webhooks/stripe",
            content=body,
            headers={"Stripe-Signature": sign(STRIPE_SECRET, body.encode(), int(time.time()))},
        )
        http.post("/v1/webhooks/stripe", content=body, headers={"Stripe-Signature": "t=1,v1=x"})
        http.get("/v1/deals", headers={"Authorization": f"Bearer {keys['admin']}x"})
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    secrets = [*keys.values(), *(t.split("_", 2)[-1] for t in keys.values()), STRIPE_SECRET]
    for secret in secrets:
        assert secret not in logged
