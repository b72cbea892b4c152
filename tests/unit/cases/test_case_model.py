"""An exception case's words: owners, states and actions, and when an action may be taken.

The enums' values are the strings the store, the events, the API and the policy file
carry, so stored cases and payloads read the same as before there were enums.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from revbridge.cases.guidance import guidance
from revbridge.cases.model import (
    GOES_ON,
    CaseAction,
    CaseState,
    ExceptionCase,
    Owner,
    action_named,
    actions_from,
)
from revbridge.config.policy import Exceptions

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _case(state: CaseState, actions: list[CaseAction]) -> ExceptionCase:
    return ExceptionCase(
        case_id="case_1",
        deal_key="salesforce:006A0000001",
        workflow_id="quote_to_cash:salesforce:006A0000001",
        state=state,
        owner=Owner.FINANCE_OPS,
        failure_class="erp.data",
        rule="submit_sales_order",
        message="netsuite 400 USER_ERROR at department",
        guidance="Fix the department in NetSuite, then retry.",
        context={},
        actions=actions,
        occurrences=1,
        assignee=None,
        correlation_id="corr-1",
        created_at=NOW,
        updated_at=NOW,
        resolved_at=None,
        resolution=None,
    )


def test_the_words_are_the_strings_stored_and_shown() -> None:
    assert [str(o) for o in Owner] == ["sales_ops", "finance_ops", "integration_support"]
    assert [str(s) for s in CaseState] == ["open", "resolved"]
    assert [str(a) for a in CaseAction] == ["retry", "resume", "compensate", "cancel"]
    assert CaseAction("compensate") is CaseAction.COMPENSATE
    assert f"{Owner.SALES_OPS}" == "sales_ops"


def test_the_policy_routes_to_the_same_owners() -> None:
    assert Exceptions().default is Owner.INTEGRATION_SUPPORT
    routed = Exceptions.model_validate({"owners": {"validation": "sales_ops"}})
    assert routed.owner_for("validation.tax_nexus") is Owner.SALES_OPS


def test_every_action_tells_the_owner_what_it_does() -> None:
    assert all(action.guidance.endswith(".") for action in CaseAction)
    assert CaseAction.RESUME.guidance == (
        "Re-read the deal from the CRM (after you fixed its data) and continue."
    )


def test_retry_and_resume_go_on_with_the_deal_compensate_and_cancel_end_it() -> None:
    assert {CaseAction.RETRY, CaseAction.RESUME} == GOES_ON


def test_an_offered_action_on_an_open_case_may_be_taken() -> None:
    case = _case(CaseState.OPEN, [CaseAction.RETRY, CaseAction.CANCEL])
    assert case.refusal(CaseAction.RETRY) is None
    assert case.refusal(CaseAction.CANCEL) is None


def test_an_action_not_offered_now_is_refused_naming_the_safe_ones() -> None:
    case = _case(CaseState.OPEN, [CaseAction.RESUME, CaseAction.CANCEL])
    assert case.refusal(CaseAction.COMPENSATE) == (
        "compensate is not safe for case case_1 now; safe: resume, cancel"
    )


def test_a_resolved_case_refuses_every_action() -> None:
    case = _case(CaseState.RESOLVED, list(CaseAction))
    for action in CaseAction:
        assert case.refusal(action) == "case case_1 is resolved, nothing to act on"


@pytest.mark.parametrize(("name", "action"), [("retry", CaseAction.RETRY), ("delete", None)])
def test_an_operators_word_is_an_action_or_nothing(name: str, action: CaseAction | None) -> None:
    assert action_named(name) is action


def test_stored_actions_read_back_in_their_order() -> None:
    assert actions_from(["resume", "cancel"]) == [CaseAction.RESUME, CaseAction.CANCEL]


def test_guidance_lists_each_safe_action_with_what_it_does() -> None:
    class Failure:
        message = "netsuite 400 USER_ERROR at department"
        findings: list[dict[str, str]] = []

    text = guidance(Failure(), [CaseAction.RETRY, CaseAction.CANCEL], "Fix it in NetSuite.")
    assert text.splitlines() == [
        "What failed: netsuite 400 USER_ERROR at department",
        "Fix it in NetSuite.",
        "Safe actions now:",
        f"• retry: {CaseAction.RETRY.guidance}",
        f"• cancel: {CaseAction.CANCEL.guidance}",
    ]
