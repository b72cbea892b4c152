"""Ids are visible text on every face of the API: a NUL, a right-to-left override or another
control or format character in an event's ids, an external id, a path id, the search text
or an assignee is a 422 problem naming the field, and nothing is stored (SQLite and
PostgreSQL, where NUL in a query would otherwise fail)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from revbridge.store import cases
from revbridge.store.tables import audit_log, event_log, inbox

PROBLEM = "application/problem+json"
RLO = "\u202e"  # right-to-left override: "invoice\u202egpj.exe" reads "invoiceexe.jpg"
CE = {"content-type": "application/cloudevents+json"}


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _invalid(answer: httpx.Response, *fields: str) -> dict[str, Any]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    for field in fields:
        assert field in body["detail"], body
    return body


def _event(**attributes: str) -> bytes:
    event = {
        "specversion": "1.0",
        "id": "e-visible-1",
        "source": "/partner-portal",
        "type": "com.revbridge.exception.raised",
        "correlationid": "corr-visible",
        **attributes,
    }
    return json.dumps(event).encode()


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"id": f"invoice{RLO}gpj.exe"}, "id"),
        ({"subject": "order \u2066x\u2069"}, "subject"),
        ({"source": "/portal\x1b[2J"}, "source"),
        ({"causationid": "c\u200b1"}, "causationid"),
        ({"traceparent": "00-\x7f"}, "traceparent"),
    ],
    ids=["rlo-id", "isolate-subject", "escape-source", "zero-width-causation", "del-extension"],
)
def test_an_event_whose_ids_hold_hidden_characters_is_422_naming_them(
    client: httpx.Client,
    auth: dict[str, dict[str, str]],
    store_engine: Engine,
    attributes: dict[str, str],
    field: str,
) -> None:
    headers = {**auth["integration_support"], **CE}
    answer = client.post("/v1/events", content=_event(**attributes), headers=headers)
    body = _invalid(answer, field)
    assert body["errors"][0]["loc"] == [field]
    assert (_count(store_engine, inbox), _count(store_engine, event_log)) == (0, 0)


def test_a_nul_in_an_event_id_is_422_naming_it(
    client: httpx.Client, auth: dict[str, dict[str, str]], store_engine: Engine
) -> None:
    headers = {**auth["integration_support"], **CE}
    answer = client.post("/v1/events", content=_event(id="e\x00-1"), headers=headers)
    body = _invalid(answer, "id holds NUL")
    assert body["errors"][0]["loc"] == ["body", "id"]
    assert _count(store_engine, inbox) == 0


def test_a_binary_mode_event_with_encoded_hidden_characters_is_422(
    client: httpx.Client, auth: dict[str, dict[str, str]], store_engine: Engine
) -> None:
    headers = {
        **auth["integration_support"],
        "ce-specversion": "1.0",
        "ce-id": "e%E2%80%AE-2",  # percent-encoded U+202E
        "ce-source": "/portal",
        "ce-type": "com.revbridge.exception.raised",
        "ce-correlationid": "corr-binary",
        "ce-traceparent": "a%00b",
    }
    body = _invalid(client.post("/v1/events", headers=headers), "id", "traceparent")
    assert "U+202E" in body["errors"][0]["msg"]
    assert _count(store_engine, inbox) == 0


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/customers/cus%00", "path.customer_id"),
        ("/v1/customers/cus%E2%80%AE/payments", "path.customer_id"),
        ("/v1/invoices/in%00", "path.invoice_id"),
        ("/v1/deals/salesforce:006%00", "path.deal"),
        ("/v1/exceptions/case%E2%81%A6x", "path.case_id"),
        ("/v1/deals?q=Acme%00", "query.q"),
    ],
)
def test_a_path_id_or_search_with_hidden_characters_is_422_naming_it(
    client: httpx.Client, auth: dict[str, dict[str, str]], path: str, field: str
) -> None:
    _invalid(client.get(path, headers=auth["admin"]), field)


def test_an_assignee_with_a_bidi_override_is_422_and_the_case_is_unchanged(
    client: httpx.Client,
    auth: dict[str, dict[str, str]],
    store_engine: Engine,
    make_case: Callable[[str], str],
) -> None:
    case_id = make_case("sales_ops")
    audited = _count(store_engine, audit_log)
    answer = client.post(
        f"/v1/exceptions/{case_id}/assign",
        json={"assignee": f"eve{RLO}moc.elpmaxe@"},
        headers=auth["sales_ops"],
    )
    _invalid(answer, "body.assignee")
    with store_engine.connect() as conn:
        case = cases.get(conn, case_id)
    assert case is not None
    assert case.assignee is None
    assert _count(store_engine, audit_log) == audited


@pytest.mark.parametrize(
    ("command", "field"),
    [
        ({"deal": f"salesforce:006{RLO}"}, "body.deal"),
        ({"filter": {}, "except": ["salesforce:006\u2067"]}, "body.except.0"),
        ({"deal": "salesforce:006A", "from_step": "validate\x07"}, "body.from_step"),
    ],
)
def test_a_replay_of_a_deal_key_or_step_with_hidden_characters_is_422(
    client: httpx.Client,
    auth: dict[str, dict[str, str]],
    recorder: Any,
    command: dict[str, Any],
    field: str,
) -> None:
    answer = client.post("/v1/replays", json=command, headers=auth["admin"])
    _invalid(answer, field)
    assert recorder.replays == []


def test_an_order_whose_external_id_holds_a_bidi_override_is_422_naming_it(
    client: httpx.Client, auth: dict[str, dict[str, str]]
) -> None:
    customer = {
        "customer_id": "cpq-cust-9",
        "name": "Umbrella UK",
        "billing_address": {"line1": "2 Piccadilly Pl", "city": "Manchester", "country": "GB"},
        "currency": "GBP",
    }
    order = {
        "order_id": "cpq-9001",
        "source": {"system": "cpq", "id": f"cpq-9001{RLO}"},
        "customer": customer,
        "currency": "GBP",
        "correlation_id": "from-the-cpq",
        "lines": [],
    }
    answer = client.post("/v1/orders", json={"order": order}, headers=auth["sales_ops"])
    body = _invalid(answer)
    assert ["body", "order", "source", "id"] in [e["loc"] for e in body["errors"]]
