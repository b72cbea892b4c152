"""Schemathesis against the live OpenAPI document: no server error, no answer outside the
documented schemas, on every operation (bounded examples, an admin key); and the hostile
corpus (``hostile_bodies.CORPUS``) sent to every operation that takes a body."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hostile_bodies import CORPUS
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from revbridge.testing.servers import serve

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    status_code_conformance,
]
MAX_EXAMPLES = 10


@pytest.fixture
def store_engine(sqlite_url: str) -> Any:  # the fuzzing needs one backend, not both
    from revbridge.store import migrate
    from revbridge.store.db import create_store_engine

    engine = create_store_engine(sqlite_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def test_every_operation_answers_within_its_documented_schema(
    make_app: Any, auth: dict[str, dict[str, str]], make_case: Any
) -> None:
    make_case("sales_ops")
    app: FastAPI = make_app(rate=(10_000.0, 10_000))
    admin = auth["admin"]
    with serve(app) as base_url:
        document = httpx.get(f"{base_url}/v1/openapi.json", headers=admin).json()
        assert document["openapi"].startswith("3.1")
        schema = schemathesis.openapi.from_dict(document)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 18
        failures: list[str] = []
        calls: list[int] = []
        for operation in operations:
            _fuzz(operation, base_url, admin, failures, calls)
    assert failures == []
    assert len(calls) >= len(operations) * 3  # the examples really ran


def _fuzz(
    operation: Any,
    base_url: str,
    headers: dict[str, str],
    failures: list[str],
    calls: list[int],
) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers)
        calls.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Exception as exc:
        failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])


def test_every_operation_with_a_body_refuses_the_hostile_corpus_with_a_problem(
    make_app: Any, auth: dict[str, dict[str, str]], make_case: Any
) -> None:
    case_id = make_case("sales_ops")
    app: FastAPI = make_app(rate=(10_000.0, 10_000))
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        document = http.get("/v1/openapi.json", headers=auth["admin"]).json()
        sent, wrong = 0, []
        for path, method, media in _with_bodies(document):
            concrete = re.sub(r"\{[^}]+\}", case_id if "exceptions" in path else "x", path)
            for name, (body, status, words) in CORPUS.items():
                headers = {**auth["admin"], "content-type": media}
                answer = http.request(method, concrete, content=body, headers=headers)
                sent += 1
                problem = answer.headers["content-type"] == "application/problem+json"
                detail = answer.json().get("detail", "") if problem else ""
                if answer.status_code != status or words not in detail:
                    wrong.append(f"{method} {path} {name}: {answer.status_code} {answer.text}")
    assert wrong == []
    assert sent >= 7 * len(CORPUS)  # events, orders, replays, 2 case commands, 2 webhooks


def _with_bodies(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(path, method, media type) of every documented operation that takes a body."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            found.extend((path, method.upper(), media) for media in list(content)[:1])
    return found
