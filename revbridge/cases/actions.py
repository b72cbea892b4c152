"""The safe operator actions on an exception case, one implementation for CLI, API, console.

An action is checked against the actions the case lists as safe, audited, and delivered
to the deal's waiting workflow, which carries it out and resolves the case. The message
names the case and its occurrence, so a double click or a stale message never acts on
a later failure of the same deal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from revbridge.errors import RevbridgeError
from revbridge.store import audit, cases
from revbridge.store.cases import CaseRow

ACTIONS = ("retry", "resume", "compensate", "cancel")

#: Delivers ``message`` to workflow ``workflow_id``.
Signal = Callable[[str, dict[str, Any]], None]


class CaseActionError(RevbridgeError):
    """The action is unknown, not safe for this case now, or the case is not open."""


def act(engine: Engine, case_id: str, action: str, actor: str, signal: Signal) -> CaseRow:
    """Check, audit and deliver ``action`` on ``case_id``; returns the case as it was."""
    if action not in ACTIONS:
        raise CaseActionError(f"unknown action {action!r}; choose from {', '.join(ACTIONS)}")
    with engine.begin() as conn:
        case = cases.get(conn, case_id)
        if case is None:
            raise CaseActionError(f"no exception case {case_id}")
        if case.state != cases.OPEN:
            raise CaseActionError(f"case {case_id} is {case.state}, nothing to act on")
        if action not in case.actions:
            raise CaseActionError(
                f"{action} is not safe for case {case_id} now; safe: {', '.join(case.actions)}"
            )
        audit.append(
            conn,
            actor=actor,
            action=f"case.{action}",
            subject=case_id,
            before={"state": case.state, "deal": case.deal_key},
            after={"requested": action},
            correlation_id=case.correlation_id,
        )
    if case.workflow_id is None:
        raise CaseActionError(f"case {case_id} has no workflow to act on")
    signal(
        case.workflow_id,
        {"action": action, "case_id": case_id, "occurrence": case.occurrences, "actor": actor},
    )
    return case


def assign(engine: Engine, case_id: str, assignee: str, actor: str) -> None:
    with engine.begin() as conn:
        case = cases.get(conn, case_id)
        if case is None:
            raise CaseActionError(f"no exception case {case_id}")
        cases.assign(conn, case_id, assignee)
        audit.append(
            conn,
            actor=actor,
            action="case.assign",
            subject=case_id,
            before={"assignee": case.assignee},
            after={"assignee": assignee},
            correlation_id=case.correlation_id,
        )
