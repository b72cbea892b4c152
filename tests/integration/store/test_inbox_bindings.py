"""Inbox dedup and bindings uniqueness on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from revbridge.cases.model import ExceptionCase
from revbridge.store import bindings, inbox
from revbridge.store.bindings import BindingConflictError
from revbridge.store.inbox import InboundEvent, Outcome


def _event(event_id: str, version: str = "v1") -> InboundEvent:
    return InboundEvent(
        source="salesforce",
        event_id=event_id,
        event_type="opportunity.closed_won",
        payload={"opportunity": "006A"},
        business_key="opportunity:006A",
        business_version=version,
    )


def test_same_event_twice_is_recorded_once(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        assert inbox.record(conn, _event("e1")) is Outcome.NEW
        assert inbox.record(conn, _event("e1")) is Outcome.DUPLICATE_EVENT
        assert inbox.count(conn) == 1


def test_same_change_under_another_id_is_a_duplicate(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        assert inbox.record(conn, _event("e1")) is Outcome.NEW
        assert inbox.record(conn, _event("e2")) is Outcome.DUPLICATE_CHANGE
        assert inbox.record(conn, _event("e3", version="v2")) is Outcome.NEW
        assert inbox.count(conn) == 2


def test_purge_keeps_at_least_seven_days(store_engine: Engine) -> None:
    now = datetime.now(UTC)
    with store_engine.begin() as conn:
        inbox.record(conn, _event("old"), now=now - timedelta(days=8))
        inbox.record(conn, _event("recent", "v2"), now=now - timedelta(days=6))
        assert inbox.purge(conn, older_than=timedelta(hours=1), now=now) == 1
        assert inbox.count(conn) == 1


def test_binding_is_idempotent_and_unique_both_ways(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        bindings.bind(conn, "customer", "cust-1", "netsuite", "647")
        bindings.bind(conn, "customer", "cust-1", "netsuite", "647")
        bindings.bind(conn, "customer", "cust-1", "stripe", "cus_1")
        assert bindings.external_for(conn, "customer", "cust-1", "netsuite") == "647"
        assert bindings.canonical_for(conn, "customer", "stripe", "cus_1") == "cust-1"
        assert [b.system for b in bindings.for_canonical(conn, "customer", "cust-1")] == [
            "netsuite",
            "stripe",
        ]
    with pytest.raises(BindingConflictError), store_engine.begin() as conn:
        bindings.bind(conn, "customer", "cust-1", "netsuite", "999")
    with pytest.raises(BindingConflictError), store_engine.begin() as conn:
        bindings.bind(conn, "customer", "cust-2", "netsuite", "647")


def test_repeated_failures_of_a_deal_update_its_one_open_case(store_engine: Engine) -> None:
    from revbridge.store import cases

    def fail(message: str) -> ExceptionCase:
        with store_engine.begin() as conn:
            case, _ = cases.raise_case(
                conn,
                deal_key="salesforce:006A",
                workflow_id="wf",
                owner="finance_ops",
                failure_class="erp.data",
                rule="submit_sales_order",
                message=message,
                guidance="fix it",
                context={"n": message},
                actions=["retry"],
                correlation_id="corr-1",
            )
            return case

    first, second = fail("first"), fail("second")
    assert first.case_id == second.case_id
    assert (second.occurrences, second.message) == (2, "second")
    with store_engine.begin() as conn:
        cases.resolve(conn, first.case_id, "retry")
    third = fail("third")
    assert third.case_id != first.case_id
    with store_engine.connect() as conn:
        assert [c.state for c in cases.for_deal(conn, "salesforce:006A")] == ["resolved", "open"]
