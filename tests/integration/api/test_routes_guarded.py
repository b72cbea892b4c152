"""Every route needs a key — checked from the route table, so a new route cannot be left
open — and each key may do only what its role allows."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

#: Routes that answer without an API key, and why.
OPEN = {
    "/healthz": "liveness probe",
    "/readyz": "readiness probe",
    "/v1/webhooks/stripe": "authenticated by its Stripe-Signature",
    "/v1/webhooks/{system}/changes": "authenticated by the CRM relay's signature",
}


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    found = []
    for route in iter_route_contexts(app.routes):
        if route.path is not None and route.methods:
            found.extend((method, route.path) for method in sorted(route.methods))
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_but_the_open_ones_answers_401_without_a_key(
    api: FastAPI, client: httpx.Client
) -> None:
    routes = _routes(api)
    assert ("GET", "/v1/openapi.json") in routes
    checked = 0
    for method, path in routes:
        if path in OPEN:
            continue
        response = client.request(method, _concrete(path), json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
        checked += 1
    assert checked >= 15
    for path in OPEN:
        assert any(p == path for _, p in routes), f"allow-listed {path} is not a route"


def test_a_wrong_or_malformed_key_is_401(client: httpx.Client) -> None:
    for token in ("nope", "rbk_abc", "rbk_0000000000000000_wrongsecret"):
        response = client.get("/v1/deals", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


def test_health_routes_are_open(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        ("sales_ops", "GET", "/v1/audit", None),
        ("finance_ops", "GET", "/v1/audit/verify", None),
        ("auditor", "POST", "/v1/events", {}),
        ("sales_ops", "POST", "/v1/replays", {"deal": "salesforce:006X"}),
        ("sales_ops", "GET", "/v1/invoices/in_1", None),
        ("auditor", "POST", "/v1/exceptions/case_x/actions", {"action": "retry"}),
    ],
)
def test_a_role_without_the_scope_gets_403(
    client: httpx.Client,
    auth: dict[str, dict[str, str]],
    role: str,
    method: str,
    path: str,
    body: object,
) -> None:
    response = client.request(method, path, json=body, headers=auth[role])
    assert response.status_code == 403, response.text
    assert response.json()["type"].endswith("/forbidden")


def test_a_key_acts_only_on_its_own_roles_cases(
    client: httpx.Client, auth: dict[str, dict[str, str]], make_case: Any
) -> None:
    finance_case = make_case("finance_ops")
    for role in ("sales_ops",):
        refused = client.post(
            f"/v1/exceptions/{finance_case}/actions",
            json={"action": "resume"},
            headers=auth[role],
        )
        assert refused.status_code == 403, refused.text
        assert "finance_ops" in refused.json()["detail"]
        assigned = client.post(
            f"/v1/exceptions/{finance_case}/assign",
            json={"assignee": "me"},
            headers=auth[role],
        )
        assert assigned.status_code == 403
    for role in ("finance_ops", "integration_support"):
        allowed = client.post(
            f"/v1/exceptions/{finance_case}/assign",
            json={"assignee": f"{role}-person"},
            headers=auth[role],
        )
        assert allowed.status_code == 200, allowed.text
