"""Exception cases: lists with filters, one case, and the operator's commands on it.

The commands are :mod:`revbridge.cases.actions` — the one implementation of the safe
actions, which checks, audits and delivers an action in one place — reached from every
face through here, with the ``signal`` the composition root built.
"""

from __future__ import annotations

from datetime import timedelta

from revbridge.cases import actions
from revbridge.cases.actions import ACTIONS, CaseActionError, Signal
from revbridge.cases.model import CaseAction, CaseState, ExceptionCase, Owner
from revbridge.service.database import Database
from revbridge.store import cases

__all__ = [
    "ACTIONS",
    "CaseAction",
    "CaseActionError",
    "CaseState",
    "ExceptionCase",
    "Owner",
    "Signal",
    "act",
    "assign",
    "get",
    "listed",
]


def listed(
    database: Database,
    *,
    owner: Owner | None = None,
    state: CaseState | None = CaseState.OPEN,
    older_than: timedelta | None = None,
    limit: int = 200,
) -> list[ExceptionCase]:
    """Cases oldest first, of ``owner`` (all when None) in ``state`` (all when None)."""
    with database.connect() as conn:
        return cases.search(conn, owner=owner, state=state, older_than=older_than, limit=limit)


def get(database: Database, case_id: str) -> ExceptionCase | None:
    with database.connect() as conn:
        return cases.get(conn, case_id)


def act(database: Database, case_id: str, action: str, actor: str, signal: Signal) -> ExceptionCase:
    """Check, audit and deliver ``action`` on the case (:func:`revbridge.cases.actions.act`)."""
    return actions.act(database, case_id, action, actor, signal)


def assign(database: Database, case_id: str, assignee: str, actor: str) -> None:
    """Give the case to ``assignee``, audited with the previous one."""
    actions.assign(database, case_id, assignee, actor)
