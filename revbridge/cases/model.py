"""The words of an exception case: who owns it, where it stands, what an operator may do.

These are the one definition of owners, case states and case actions. Their values are
what the store, the audit log, the events, the API and the policy file carry (``str``
enums), so a member compares equal to its stored string and reads back from it.

The routing of failure classes to owners is policy (``exceptions.owners`` in the policy
file, :meth:`revbridge.config.policy.Exceptions.owner_for`); the failure classes
themselves (``FAILURE_CLASSES``) are derived there from the system roles and readiness
rules the policy names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "GOES_ON",
    "CaseAction",
    "CaseState",
    "ExceptionCase",
    "Owner",
    "action_named",
    "actions_from",
]


class Owner(StrEnum):
    """Who works an exception case; the policy routes each failure class to one of them."""

    #: Sales operations: fix the opportunity, the account or the quote in the CRM.
    SALES_OPS = "sales_ops"
    #: Finance operations: tax registrations, items, ERP and billing records.
    FINANCE_OPS = "finance_ops"
    #: Integration support: credentials, outages of other systems, revbridge defects.
    INTEGRATION_SUPPORT = "integration_support"


class CaseState(StrEnum):
    """Where an exception case stands; a deal has at most one open case."""

    #: Waiting for its owner's action, or for the deal to get past the step that failed.
    OPEN = "open"
    #: Done: the deal got past the failure, or was compensated or cancelled.
    RESOLVED = "resolved"


class CaseAction(StrEnum):
    """What an operator may do on an open case; each carries what it means to the owner."""

    guidance: str

    def __new__(cls, value: str, guidance: str = "") -> CaseAction:
        member = str.__new__(cls, value)
        member._value_ = value
        member.guidance = guidance
        return member

    #: Run the failed step again as it is.
    RETRY = "retry", "Run the failed step again as it is (after the other system was fixed)."
    #: Start the deal again from a fresh read of the CRM.
    RESUME = "resume", "Re-read the deal from the CRM (after you fixed its data) and continue."
    #: Undo, newest first, what the deal created; the deal ends compensated.
    COMPENSATE = (
        "compensate",
        "Undo what was already created (close the ERP order, cancel billing) "
        "and mark the deal in the CRM.",
    )
    #: Stop the deal; nothing more is created.
    CANCEL = "cancel", "Stop working on this deal; nothing more is created."


#: Actions after which the deal goes on: its case stays open until it is past the failure.
GOES_ON: frozenset[CaseAction] = frozenset({CaseAction.RETRY, CaseAction.RESUME})


@dataclass(frozen=True)
class ExceptionCase:
    """One deal's exception case as the store keeps it: the failure, its owner, the
    guidance and actions offered, and where it stands."""

    case_id: str
    deal_key: str
    workflow_id: str | None
    state: CaseState
    owner: Owner
    failure_class: str
    rule: str
    message: str
    guidance: str
    context: dict[str, Any]
    actions: list[CaseAction]
    occurrences: int
    assignee: str | None
    correlation_id: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    #: The action that ended the case.
    resolution: str | None

    def refusal(self, action: CaseAction) -> str | None:
        """Why an operator may not take ``action`` on this case now; None when they may."""
        if self.state != CaseState.OPEN:
            return f"case {self.case_id} is {self.state}, nothing to act on"
        if action not in self.actions:
            return (
                f"{action} is not safe for case {self.case_id} now; safe: {', '.join(self.actions)}"
            )
        return None


def action_named(name: str) -> CaseAction | None:
    """The action an operator named, or None when there is no such action."""
    try:
        return CaseAction(name)
    except ValueError:
        return None


def actions_from(values: Iterable[str]) -> list[CaseAction]:
    """Actions as stored (their values), in their order."""
    return [CaseAction(value) for value in values]
