"""Errors are problem+json; bodies are bounded; keys expire and are revoked; keys are
rate-limited; deprecated routes say so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine, update

from revbridge.api.versioning import deprecated
from revbridge.store import api_keys
from revbridge.store.tables import api_keys as api_key_rows
from revbridge.testing.servers import serve

PROBLEM = "application/problem+json"


def _is_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://revbridge.dev/problems/")
    return body


def test_malformed_json_is_400(client: httpx.Client, auth: dict[str, dict[str, str]]) -> None:
    headers = {**auth["admin"], "content-type": "application/json"}
    _is_problem(client.post("/v1/replays", content=b'{"deal": ', headers=headers), 400)
    ce = {**auth["admin"], "content-type": "application/cloudevents+json"}
    _is_problem(client.post("/v1/events", content=b"{nope", headers=ce), 400)


def test_unknown_fields_and_invalid_values_are_422_listing_the_fields(
    client: httpx.Client, auth: dict[str, dict[str, str]], make_case: Any
) -> None:
    case_id = make_case("sales_ops")
    body = _is_problem(
        client.post(
            f"/v1/exceptions/{case_id}/actions",
            json={"action": "retry", "force": True},
            headers=auth["admin"],
        ),
        422,
    )
    assert ["body", "force"] in [e["loc"] for e in body["errors"]]
    body = _is_problem(
        client.post(
            f"/v1/exceptions/{case_id}/actions", json={"action": "explode"}, headers=auth["admin"]
        ),
        422,
    )
    assert "body.action" in body["detail"]
    _is_problem(client.get("/v1/exceptions?older_than_s=-1", headers=auth["admin"]), 422)


def test_oversized_bodies_are_413_before_parsing(
    client: httpx.Client, auth: dict[str, dict[str, str]]
) -> None:
    big = b"x" * ((1 << 20) + 1)
    _is_problem(client.post("/v1/events", content=big, headers=auth["admin"]), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        for _ in range(17):
            yield b"y" * 65536

    _is_problem(client.post("/v1/replays", content=chunks(), headers=auth["admin"]), 413)
    _is_problem(client.post("/v1/webhooks/stripe", content=big), 413)


def test_unknown_routes_and_methods_are_problems(
    client: httpx.Client, auth: dict[str, dict[str, str]]
) -> None:
    _is_problem(client.get("/v1/nothing-here", headers=auth["admin"]), 404)
    _is_problem(client.delete("/v1/deals", headers=auth["admin"]), 405)
    _is_problem(client.get("/v1/deals/salesforce:006NOPE", headers=auth["admin"]), 404)
    _is_problem(client.get("/v1/exceptions/case_nope", headers=auth["admin"]), 404)


def test_a_created_key_works_until_revoked(client: httpx.Client, store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        key, token = api_keys.create(conn, "portal", "sales_ops", timedelta(days=30))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/deals", headers=headers).status_code == 200
    with store_engine.begin() as conn:
        assert api_keys.revoke(conn, key.id)
    _is_problem(client.get("/v1/deals", headers=headers), 401)


def test_an_expired_key_is_401(client: httpx.Client, store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        key, token = api_keys.create(conn, "old", "admin", timedelta(days=1))
        conn.execute(
            update(api_key_rows)
            .where(api_key_rows.c.id == key.id)
            .values(expires_at=key.created_at - timedelta(seconds=1))
        )
    _is_problem(client.get("/v1/deals", headers={"Authorization": f"Bearer {token}"}), 401)


def test_keys_are_stored_hashed(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        _key, token = api_keys.create(conn, "hash", "auditor")
        row = conn.execute(api_key_rows.select()).first()
    assert row is not None
    secret = token.split("_", 2)[-1]
    assert secret not in str(row._asdict())
    assert len(row.secret_hash) == 64


def test_a_key_over_its_rate_gets_429_with_retry_after(
    make_app: Any, auth: dict[str, dict[str, str]]
) -> None:
    app = make_app(rate=(0.5, 3))
    with serve(app) as base, httpx.Client(base_url=base) as http:
        answers = [http.get("/v1/deals", headers=auth["sales_ops"]) for _ in range(5)]
        assert [a.status_code for a in answers[:3]] == [200, 200, 200]
        limited = _is_problem(answers[4], 429)
        assert int(answers[4].headers["retry-after"]) >= 1
        assert "rate" in limited["detail"]
        assert http.get("/v1/deals", headers=auth["finance_ops"]).status_code == 200


def test_a_deprecated_route_carries_deprecation_and_sunset(
    api: FastAPI, auth: dict[str, dict[str, str]]
) -> None:
    @api.get("/v1/old-thing", **deprecated(date(2027, 1, 1), date(2027, 7, 1), "/v1/deals"))
    def old_thing() -> dict[str, str]:
        return {"still": "here"}

    with serve(api) as base, httpx.Client(base_url=base) as http:
        answer = http.get("/v1/old-thing")
    assert answer.headers["deprecation"] == "@1798761600"
    assert answer.headers["sunset"] == "Thu, 01 Jul 2027 00:00:00 GMT"
    assert answer.headers["link"] == '</v1/deals>; rel="successor-version"'
    api.openapi_schema = None
    assert api.openapi()["paths"]["/v1/old-thing"]["get"]["deprecated"] is True


def test_an_unexpected_error_is_a_500_problem_without_details(
    api: FastAPI, auth: dict[str, dict[str, str]]
) -> None:
    @api.get("/v1/broken")
    def broken() -> None:
        raise RuntimeError("internal detail 7f3a")

    with serve(api) as base, httpx.Client(base_url=base) as http:
        answer = http.get("/v1/broken", headers=auth["admin"])
    body = _is_problem(answer, 500)
    assert "7f3a" not in answer.text
    assert body["type"].endswith("/internal")
