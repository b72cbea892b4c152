"""The actions a case offers its owner, and the check made when an operator picks one.

A failed read of the deal or a failed validation can only be ``resume``d (read the CRM
again after fixing it); any other step can also be ``retry``d. Once an ERP order, a
subscription or a tax document exists the deal can be ``compensate``d (undone), and it
can always be ``cancel``led. ``act()`` refuses anything else, for any case not open.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from revbridge.canonical import ExternalRef
from revbridge.cases.actions import CaseActionError, Signal, act
from revbridge.flows.outcomes import StepFailure
from revbridge.flows.quote_to_cash import _Deal, _safe_actions
from revbridge.store import audit, cases, migrate
from revbridge.store.db import create_store_engine

DEAL = "salesforce:006A0000001"
WORKFLOW = f"quote_to_cash:{DEAL}"


def _failure(step: str) -> StepFailure:
    return StepFailure(step=step, failure_class="erp.data", message="refused")


def _deal(*created: str) -> _Deal:
    deal = _Deal(ExternalRef.parse(DEAL), "corr-1")
    for effect in created:
        setattr(deal.created, effect, ExternalRef(system="somewhere", id=f"{effect}-1"))
    return deal


# -- what a case offers ------------------------------------------------------------------


@pytest.mark.parametrize("step", ["fetch_deal", "validate"])
def test_a_deal_that_could_not_be_read_or_validated_can_only_be_resumed_or_cancelled(
    step: str,
) -> None:
    assert _safe_actions(_deal(), _failure(step)) == ["resume", "cancel"]


def test_a_failed_call_can_be_retried_as_is_or_resumed_from_the_crm() -> None:
    assert _safe_actions(_deal(), _failure("quote_tax")) == ["retry", "resume", "cancel"]


def test_customers_alone_are_not_compensated_they_are_reused() -> None:
    deal = _deal("erp_customer", "billing_customer")
    assert "compensate" not in _safe_actions(deal, _failure("start_subscription"))


@pytest.mark.parametrize("effect", ["tax_document", "erp_order", "subscription"])
def test_once_something_was_booked_the_deal_can_be_compensated(effect: str) -> None:
    assert _safe_actions(_deal("erp_customer", effect), _failure("add_invoice_items")) == [
        "retry",
        "resume",
        "compensate",
        "cancel",
    ]


def test_a_later_validation_failure_still_offers_to_undo_what_was_booked() -> None:
    deal = _deal("erp_customer", "tax_document", "erp_order")
    assert _safe_actions(deal, _failure("validate")) == ["resume", "compensate", "cancel"]


# -- what an operator may do --------------------------------------------------------------


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_store_engine(f"sqlite:///{tmp_path}/rb.db")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def signals() -> list[tuple[str, dict[str, Any]]]:
    return []


def _signal(signals: list[tuple[str, dict[str, Any]]]) -> Signal:
    return lambda workflow_id, message: signals.append((workflow_id, message))


def _open_case(engine: Engine, actions: list[str]) -> str:
    with engine.begin() as conn:
        case, _ = cases.raise_case(
            conn,
            deal_key=DEAL,
            workflow_id=WORKFLOW,
            owner="finance_ops",
            failure_class="erp.data",
            rule="submit_sales_order",
            message="netsuite 400 USER_ERROR at department",
            guidance="Fix the department in NetSuite, then retry.",
            context={},
            actions=actions,
            correlation_id="corr-1",
        )
    return case.case_id


def _audited(engine: Engine) -> list[str]:
    return [entry.action for entry in audit.entries(engine)]


def test_a_safe_action_is_audited_and_delivered_to_the_deals_workflow(
    sqlite_engine: Engine, signals: list[tuple[str, dict[str, Any]]]
) -> None:
    case_id = _open_case(sqlite_engine, ["retry", "resume", "cancel"])
    case = act(sqlite_engine, case_id, "retry", "ops@acme.test", _signal(signals))
    assert case.case_id == case_id
    assert signals == [
        (
            WORKFLOW,
            {"action": "retry", "case_id": case_id, "occurrence": 1, "actor": "ops@acme.test"},
        )
    ]
    assert _audited(sqlite_engine) == ["case.retry"]


def test_the_message_names_the_failure_it_answers_so_a_stale_click_is_ignored(
    sqlite_engine: Engine, signals: list[tuple[str, dict[str, Any]]]
) -> None:
    first = _open_case(sqlite_engine, ["retry", "resume", "cancel"])
    again = _open_case(sqlite_engine, ["retry", "resume", "cancel"])  # the deal failed again
    assert again == first
    act(sqlite_engine, first, "resume", "ops@acme.test", _signal(signals))
    assert signals[0][1]["occurrence"] == 2


def test_an_unknown_action_is_refused(
    sqlite_engine: Engine, signals: list[tuple[str, dict[str, Any]]]
) -> None:
    case_id = _open_case(sqlite_engine, ["retry", "resume", "cancel"])
    with pytest.raises(CaseActionError, match="unknown action 'delete'; choose from retry"):
        act(sqlite_engine, case_id, "delete", "ops@acme.test", _signal(signals))
    assert signals == []
    assert _audited(sqlite_engine) == []


def test_an_action_the_case_does_not_offer_now_is_refused_naming_the_safe_ones(
    sqlite_engine: Engine, signals: list[tuple[str, dict[str, Any]]]
) -> None:
    case_id = _open_case(sqlite_engine, ["resume", "cancel"])
    with pytest.raises(CaseActionError, match=r"compensate is not safe .* safe: resume, cancel"):
        act(sqlite_engine, case_id, "compensate", "ops@acme.test", _signal(signals))
    assert signals == []
    assert _audited(sqlite_engine) == []


def test_a_resolved_case_cannot_be_acted_on(
    sqlite_engine: Engine, signals: list[tuple[str, dict[str, Any]]]
) -> None:
    case_id = _open_case(sqlite_engine, ["retry", "resume", "cancel"])
    with sqlite_engine.begin() as conn:
        cases.resolve(conn, case_id, "retried")
    with pytest.raises(CaseActionError, match="is resolved, nothing to act on"):
        act(sqlite_engine, case_id, "retry", "ops@acme.test", _signal(signals))
    assert signals == []


def test_an_unknown_case_is_refused(
    sqlite_engine: Engine, signals: list[tuple[str, dict[str, Any]]]
) -> None:
    with pytest.raises(CaseActionError, match="no exception case case_missing"):
        act(sqlite_engine, "case_missing", "retry", "ops@acme.test", _signal(signals))
    assert signals == []
