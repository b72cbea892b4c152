"""Events in (structured and binary), the stream out, ownership refused, exception
actions audited and signalled, replays previewed and started, deals and customers read."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import Engine

from revbridge.canonical.events import BusinessEvent, EventType, to_binary, to_structured
from revbridge.store import audit, bindings
from revbridge.testing.factories import order_accepted_event, uk_subscription_order

CE = "application/cloudevents+json"


def test_structured_and_binary_events_are_recorded_once_and_streamed(
    client: httpx.Client, auth: dict[str, dict[str, str]]
) -> None:
    event = BusinessEvent.create(
        EventType.EXCEPTION_RAISED, {"case": "case_1"}, source="/revbridge", correlationid="c-1"
    )
    structured = client.post(
        "/v1/events",
        content=to_structured(event),
        headers={**auth["integration_support"], "content-type": CE},
    )
    assert structured.status_code == 202, structured.text
    assert structured.json() == {
        "id": event.id,
        "source": "/revbridge",
        "outcome": "new",
        "offset": 1,
    }
    second = event.model_copy(update={"id": "evt-binary-2"})
    headers, body = to_binary(second)
    binary = client.post("/v1/events", content=body, headers={**auth["admin"], **headers})
    assert binary.status_code == 202, binary.text
    assert binary.json()["offset"] == 2
    duplicate = client.post("/v1/events", content=body, headers={**auth["admin"], **headers})
    assert duplicate.json()["outcome"] == "duplicate"
    page = client.get("/v1/events?after=1", headers=auth["sales_ops"]).json()
    assert [e["offset"] for e in page["events"]] == [2]
    assert page["events"][0]["event"]["id"] == "evt-binary-2"
    assert page["events"][0]["event"]["type"] == EventType.EXCEPTION_RAISED.ce_type
    assert page["next_after"] == 2
    assert client.get("/v1/events?after=2", headers=auth["sales_ops"]).json()["events"] == []


def test_an_event_that_is_not_a_revbridge_event_is_refused(
    client: httpx.Client, auth: dict[str, dict[str, str]]
) -> None:
    raw = {
        "specversion": "1.0",
        "id": "x",
        "source": "/a",
        "type": "com.other.thing",
        "correlationid": "c-1",
    }
    answer = client.post(
        "/v1/events", content=json.dumps(raw), headers={**auth["admin"], "content-type": CE}
    )
    assert answer.status_code == 422
    plain = client.post(
        "/v1/events", content=b"hello", headers={**auth["admin"], "content-type": "text/plain"}
    )
    assert plain.status_code == 415


def test_a_write_to_a_field_another_system_owns_is_refused_with_the_rule(
    client: httpx.Client, auth: dict[str, dict[str, str]], store_engine: Engine
) -> None:
    event = order_accepted_event(uk_subscription_order()).model_copy(
        update={"source": "/salesforce/cdc"}
    )
    assert event.data is not None
    assert "payment_terms" in event.data.customer.model_fields_set
    answer = client.post(
        "/v1/events",
        content=to_structured(event),
        headers={**auth["admin"], "content-type": CE},
    )
    assert answer.status_code == 409, answer.text
    problem = answer.json()
    assert problem["rule"] == "ownership.fields.customer.payment_terms: erp"
    assert problem["type"].endswith("/ownership-conflict")
    entries = list(audit.entries(store_engine))
    assert [e.action for e in entries] == ["ownership.conflict"]
    assert entries[0].actor == "api:test-admin (admin)"
    assert client.get("/v1/events", headers=auth["admin"]).json()["events"] == []


def test_the_owner_of_every_field_it_sets_may_write(
    client: httpx.Client, auth: dict[str, dict[str, str]]
) -> None:
    order = uk_subscription_order()
    customer = order.customer.model_copy(update={"payment_terms": None, "tax_exemption": None})
    event = order_accepted_event(order.model_copy(update={"customer": customer}))
    event = event.model_copy(update={"source": "/salesforce/cdc"})  # crm owns billing_address
    answer = client.post(
        "/v1/events", content=to_structured(event), headers={**auth["admin"], "content-type": CE}
    )
    assert answer.status_code == 202, answer.text


def test_an_action_on_a_case_is_audited_and_signalled_to_its_flow(
    client: httpx.Client,
    auth: dict[str, dict[str, str]],
    make_case: Any,
    recorder: Any,
    store_engine: Engine,
) -> None:
    case_id = make_case("sales_ops")
    listed = client.get("/v1/exceptions?owner=sales_ops", headers=auth["auditor"]).json()
    assert [c["case_id"] for c in listed["cases"]] == [case_id]
    shown = client.get(f"/v1/exceptions/{case_id}", headers=auth["sales_ops"]).json()
    assert shown["actions"] == ["resume", "cancel"]
    assert shown["context"]
    answer = client.post(
        f"/v1/exceptions/{case_id}/actions", json={"action": "resume"}, headers=auth["sales_ops"]
    )
    assert answer.status_code == 202, answer.text
    workflow, message = recorder.signals[0]
    assert workflow == "quote_to_cash:salesforce:006A0000001"
    assert message["action"] == "resume"
    assert message["case_id"] == case_id
    entry = next(iter(audit.entries(store_engine)))
    assert (entry.action, entry.subject, entry.actor) == (
        "case.resume",
        case_id,
        "api:test-sales_ops (sales_ops)",
    )
    unsafe = client.post(
        f"/v1/exceptions/{case_id}/actions", json={"action": "compensate"}, headers=auth["admin"]
    )
    assert unsafe.status_code == 409
    assert len(recorder.signals) == 1


def test_replays_preview_then_start_all_but_the_excepted(
    client: httpx.Client,
    auth: dict[str, dict[str, str]],
    make_case: Any,
    recorder: Any,
    store_engine: Engine,
) -> None:
    for n in range(3):
        make_case("finance_ops", deal=f"salesforce:006B{n}")
    command = {
        "filter": {"status": "exception", "owner": "finance_ops"},
        "except": ["salesforce:006B1"],
        "dry_run": True,
    }
    preview = client.post("/v1/replays", json=command, headers=auth["integration_support"])
    assert preview.status_code == 200, preview.text
    assert [d["deal"] for d in preview.json()["deals"]] == ["salesforce:006B0", "salesforce:006B2"]
    assert recorder.replays == []
    started = client.post(
        "/v1/replays", json={**command, "dry_run": False}, headers=auth["admin"]
    ).json()
    assert [d["new_workflow_id"] for d in started["deals"]] == [
        "quote_to_cash:salesforce:006B0:replay-1",
        "quote_to_cash:salesforce:006B2:replay-2",
    ]
    assert [e.action for e in audit.entries(store_engine)] == ["deal.replay", "deal.replay"]
    one = client.post("/v1/replays", json={"deal": "salesforce:006B1"}, headers=auth["admin"])
    assert one.json()["deals"][0]["deal"] == "salesforce:006B1"
    both = client.post(
        "/v1/replays", json={"deal": "salesforce:006B1", "filter": {}}, headers=auth["admin"]
    )
    assert both.status_code == 422


def test_deals_flows_customers_and_audit_read(
    client: httpx.Client, auth: dict[str, dict[str, str]], make_case: Any, store_engine: Engine
) -> None:
    make_case("sales_ops", deal="salesforce:006C1")
    with store_engine.begin() as conn:
        bindings.bind(conn, "customer", "acct-001", "netsuite", "1042")
        bindings.bind(conn, "customer", "acct-001", "stripe", "cus_42")
    deal = client.get("/v1/deals/salesforce:006C1", headers=auth["sales_ops"]).json()
    assert deal["status"] == "exception"
    assert deal["cases"][0]["owner"] == "sales_ops"
    found = client.get("/v1/deals?q=006C", headers=auth["sales_ops"]).json()["deals"]
    assert [d["deal"] for d in found] == ["salesforce:006C1"]
    flows = client.get("/v1/flows?state=exception", headers=auth["sales_ops"]).json()
    assert flows["counts"]["exception"] == 1
    assert len(flows["deals"]) == 1
    customer = client.get("/v1/customers/acct-001", headers=auth["sales_ops"]).json()
    assert {i["system"]: i["id"] for i in customer["ids"]} == {
        "netsuite": "1042",
        "stripe": "cus_42",
    }
    payments = client.get("/v1/customers/acct-001/payments", headers=auth["finance_ops"])
    assert payments.json() == {"customer_id": "acct-001", "payments": []}
    verify = client.get("/v1/audit/verify", headers=auth["auditor"]).json()
    assert verify["ok"] is True


def test_an_event_without_an_id_is_refused_and_records_nothing(
    client: httpx.Client, auth: dict[str, dict[str, str]]
) -> None:
    raw = {
        "specversion": "1.0",
        "source": "/partner-portal",
        "type": EventType.EXCEPTION_RAISED.ce_type,
        "correlationid": "c-1",
        "data": {"note": "no id"},
    }
    headers = {**auth["integration_support"], "content-type": CE}
    structured = client.post("/v1/events", content=json.dumps(raw), headers=headers)
    binary = client.post(
        "/v1/events",
        content=b"{}",
        headers={
            **auth["integration_support"],
            "ce-specversion": "1.0",
            "ce-source": "/partner-portal",
            "ce-type": EventType.EXCEPTION_RAISED.ce_type,
            "ce-correlationid": "c-1",
            "content-type": "application/json",
        },
    )
    for answer in (structured, binary):
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "no id" in answer.json()["detail"]
    assert client.get("/v1/events?after=0", headers=auth["sales_ops"]).json()["events"] == []
