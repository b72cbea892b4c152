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

from revbridge.cases.model import CaseAction, ExceptionCase, action_named
from revbridge.errors import RevbridgeError
from revbridge.store import audit, cases

#: Every action, in the order they are offered.
ACTIONS: tuple[CaseAction, ...] = tuple(CaseAction)

#: Delivers ``message`` to workflow ``workflow_id``.
Signal = Callable[[str, dict[str, Any]], None]


class CaseActionError(RevbridgeError):
    """The action is unknown, not safe for this case now, or the case is not open."""


def act(engine: Engine, case_id: str, action: str, actor: str, signal: Signal) -> ExceptionCase:
    """Check, audit and deliver ``action`` on ``case_id``; returns the case as it was."""
    chosen = action_named(action)
    if chosen is None:
        raise CaseActionError(f"unknown action {action!r}; choose from {', '.join(ACTIONS)}")
    with engine.begin() as conn:
        case = cases.get(conn, case_id)
        if case is None:
            raise CaseActionError(f"no exception case {case_id}")
        refusal = case.refusal(chosen)
        if refusal is not None:
            raise CaseActionError(refusal)
        audit.append(
            conn,
            actor=actor,
            action=f"case.{chosen}",
            subject=case_id,
            before={"state": str(case.state), "deal": case.deal_key},
            after={"requested": str(chosen)},
            correlation_id=case.correlation_id,
        )
    if case.workflow_id is None:
        raise CaseActionError(f"case {case_id} has no workflow to act on")
    signal(
        case.workflow_id,
        {
            "action": str(chosen),
            "case_id": case_id,
            "occurrence": case.occurrences,
            "actor": actor,
        },
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
