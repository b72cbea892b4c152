"""``POST /v1/usage``: a usage record is stored once and its report started; every refusal
is a precise problem and stores nothing; an owner other than the writer is refused and
audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from conftest import Recorder
from sqlalchemy import Engine, func, select

from revbridge.store import audit, bindings
from revbridge.store import usage as records
from revbridge.store.tables import usage_records

PROBLEM = "application/problem+json"
NOW = datetime.now(UTC).replace(microsecond=0)


def _record(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "record_id": "use-0001",
        "customer_id": "acct-uk-1",
        "sku": "USG-API-CALLS",
        "quantity": "12",
        "timestamp": (NOW - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def billed(store_engine: Engine) -> None:
    """The customer's deal reached billing: revbridge bound it to a Stripe customer."""
    with store_engine.begin() as conn:
        bindings.bind(conn, "customer", "acct-uk-1", "stripe", "cus_UK1")


def _stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(usage_records)).scalar_one())


def test_a_new_record_is_accepted_stored_audited_and_its_report_started(
    client: httpx.Client,
    auth: dict[str, dict[str, str]],
    store_engine: Engine,
    recorder: Recorder,
    billed: None,
) -> None:
    answer = client.post("/v1/usage", json=_record(quantity=12), headers=auth["admin"])

    assert answer.status_code == 202, answer.text
    assert answer.json() == {"record_id": "use-0001", "outcome": "accepted"}
    assert recorder.usage_reports == ["use-0001"]
    with store_engine.connect() as conn:
        stored = records.get(conn, "use-0001")
    assert stored is not None
    assert (stored.customer_id, stored.sku, str(stored.quantity)) == (
        "acct-uk-1",
        "USG-API-CALLS",
        "12",
    )
    assert stored.state is records.State.PENDING
    [entry] = [e for e in audit.entries(store_engine) if e.action == "usage.accepted"]
    assert entry.subject == "usage:use-0001"


def test_the_same_record_again_is_a_duplicate_and_another_body_a_conflict(
    client: httpx.Client,
    auth: dict[str, dict[str, str]],
    store_engine: Engine,
    recorder: Recorder,
    billed: None,
) -> None:
    first = client.post("/v1/usage", json=_record(), headers=auth["integration_support"])
    again = client.post("/v1/usage", json=_record(quantity="12.00"), headers=auth["admin"])
    other = client.post("/v1/usage", json=_record(quantity="13"), headers=auth["admin"])

    assert first.status_code == 202, first.text
    assert again.status_code == 200, again.text
    assert again.json() == {"record_id": "use-0001", "outcome": "duplicate"}
    assert other.status_code == 409, other.text
    assert other.headers["content-type"] == PROBLEM
    assert "another body" in other.json()["detail"]
    assert _stored(store_engine) == 1
    with store_engine.connect() as conn:
        stored = records.get(conn, "use-0001")
    assert stored is not None
    assert str(stored.quantity) == "12"
    assert recorder.usage_reports == ["use-0001", "use-0001"]  # the second attaches


@pytest.mark.parametrize(
    ("changes", "status", "field", "words"),
    [
        ({"quantity": "-1"}, 422, "quantity", "zero or more"),
        ({"quantity": 2.5}, 422, "quantity", "not an exact amount"),
        ({"quantity": "1e3"}, 422, "quantity", "no exponent"),
        ({"quantity": None}, 422, "quantity", "Field required"),
        ({"record_id": ""}, 422, "record_id", "at least 1"),
        ({"record_id": "use\u202e1"}, 422, "record_id", "U+202E"),
        ({"record_id": "r" * 101}, 422, "record_id", "at most 100"),
        ({"customer_id": "acct uk"}, 422, "customer_id", "pattern"),
        ({"timestamp": "2027-01-15"}, 422, "timestamp", "RFC 3339"),
        ({"timestamp": 1767225600}, 422, "timestamp", "RFC 3339"),
        ({"timestamp": "2027-01-15T10:00:00"}, 422, "timestamp", "RFC 3339"),
        ({"source": "Not A System"}, 422, "source", "pattern"),
        ({"extra": "x"}, 422, "extra", "Extra inputs"),
        ({"sku": "NOPE-1"}, 422, "sku", "unknown SKU NOPE-1"),
        ({"sku": "SUB-PLATFORM-ANNUAL"}, 422, "sku", "is not metered"),
        ({"customer_id": "acct-unknown"}, 422, "customer_id", "unknown to billing"),
        (
            {"timestamp": (NOW - timedelta(days=36)).isoformat()},
            422,
            "timestamp",
            "more than 35 days ago",
        ),
        (
            {"timestamp": (NOW + timedelta(minutes=10)).isoformat()},
            422,
            "timestamp",
            "5 minutes ahead",
        ),
    ],
)
def test_an_invalid_record_is_refused_naming_the_field_and_nothing_is_stored(
    client: httpx.Client,
    auth: dict[str, dict[str, str]],
    store_engine: Engine,
    recorder: Recorder,
    billed: None,
    changes: dict[str, Any],
    status: int,
    field: str,
    words: str,
) -> None:
    answer = client.post("/v1/usage", json=_record(**changes), headers=auth["admin"])

    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert ["body", field] in [e["loc"][:2] for e in body["errors"]], body
    assert words in answer.text
    assert _stored(store_engine) == 0
    assert recorder.usage_reports == []


def test_a_writer_that_does_not_own_usage_is_refused_and_audited(
    client: httpx.Client,
    auth: dict[str, dict[str, str]],
    store_engine: Engine,
    recorder: Recorder,
    billed: None,
) -> None:
    refused = client.post("/v1/usage", json=_record(source="salesforce"), headers=auth["admin"])
    by_role = client.post("/v1/usage", json=_record(source="billing"), headers=auth["admin"])
    product = client.post("/v1/usage", json=_record(source="acme-app"), headers=auth["admin"])

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == PROBLEM
    body = refused.json()
    assert body["type"].endswith("/ownership-conflict")
    assert body["rule"] == "ownership.domains.usage: product"
    assert by_role.status_code == 409, by_role.text
    assert product.status_code == 202, product.text
    conflicts = [e for e in audit.entries(store_engine) if e.action == "ownership.conflict"]
    assert [e.after["writer"] for e in conflicts] == ["salesforce", "billing"]
    assert _stored(store_engine) == 1


@pytest.mark.parametrize(("role", "status"), [("sales_ops", 403), ("auditor", 403), (None, 401)])
def test_only_a_key_with_usage_write_may_record_usage(
    client: httpx.Client,
    auth: dict[str, dict[str, str]],
    store_engine: Engine,
    role: str | None,
    status: int,
) -> None:
    headers = auth[role] if role else {}
    answer = client.post("/v1/usage", json=_record(), headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert _stored(store_engine) == 0


def test_a_body_that_is_not_json_is_415_and_malformed_json_400(
    client: httpx.Client, auth: dict[str, dict[str, str]], store_engine: Engine
) -> None:
    text = {**auth["admin"], "Content-Type": "text/plain"}
    json_type = {**auth["admin"], "Content-Type": "application/json"}
    assert client.post("/v1/usage", content=b"{}", headers=text).status_code == 415
    assert client.post("/v1/usage", content=b'{"record_id": ', headers=json_type).status_code == 400
    assert _stored(store_engine) == 0
