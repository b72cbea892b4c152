"""Exception cases on disk: at most one open case per deal, updated on repeat failures.

The case record and its words (owners, states, actions) are :mod:`revbridge.cases.model`;
this module reads and writes them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from revbridge.cases.model import CaseAction, CaseState, ExceptionCase, Owner, actions_from
from revbridge.store.tables import exception_cases as cases

__all__ = [
    "assign",
    "for_deal",
    "get",
    "note_action",
    "open_counts",
    "open_for_correlation",
    "open_for_deal",
    "raise_case",
    "resolve",
    "search",
]

#: A case as the store returns it.


def _row(row: Any) -> ExceptionCase:
    values = row._asdict()
    return ExceptionCase(
        **{
            **values,
            "state": CaseState(values["state"]),
            "owner": Owner(values["owner"]),
            "actions": actions_from(values["actions"]),
        }
    )


def raise_case(
    conn: Connection,
    *,
    deal_key: str,
    workflow_id: str,
    owner: Owner,
    failure_class: str,
    rule: str,
    message: str,
    guidance: str,
    context: dict[str, Any],
    actions: Sequence[CaseAction],
    correlation_id: str | None,
) -> tuple[ExceptionCase, bool]:
    """Open a case for the deal, or update its open one; ``(case, created)``.

    An open case keeps its id and its age (``created_at``) however often the deal fails
    again: an operator's retry or resume that did not fix it adds an occurrence, and the
    case's ``context["history"]`` lists every failure and every action taken on it.
    """
    now = datetime.now(UTC)
    existing = open_for_deal(conn, deal_key)
    failure = {"at": now.isoformat(), "failed": failure_class, "message": message}
    history = [*(_history(existing) if existing is not None else []), failure]
    context = {**context, "history": history}
    values = {
        "owner": str(owner),
        "failure_class": failure_class,
        "rule": rule,
        "message": message,
        "guidance": guidance,
        "context": context,
        "actions": [str(action) for action in actions],
        "updated_at": now,
        "workflow_id": workflow_id,
        "correlation_id": correlation_id,
    }
    if existing is not None:
        conn.execute(
            update(cases)
            .where(cases.c.case_id == existing.case_id)
            .values(occurrences=cases.c.occurrences + 1, **values)
        )
        updated = get(conn, existing.case_id)
        assert updated is not None
        return updated, False
    case_id = f"case_{uuid.uuid4().hex[:16]}"
    conn.execute(
        cases.insert().values(
            case_id=case_id,
            deal_key=deal_key,
            state=str(CaseState.OPEN),
            occurrences=1,
            created_at=now,
            **values,
        )
    )
    created = get(conn, case_id)
    assert created is not None
    return created, True


def get(conn: Connection, case_id: str) -> ExceptionCase | None:
    row = conn.execute(select(cases).where(cases.c.case_id == case_id)).first()
    return None if row is None else _row(row)


def open_for_deal(conn: Connection, deal_key: str) -> ExceptionCase | None:
    row = conn.execute(
        select(cases).where(cases.c.deal_key == deal_key, cases.c.state == str(CaseState.OPEN))
    ).first()
    return None if row is None else _row(row)


def open_for_correlation(conn: Connection, correlation_id: str) -> list[ExceptionCase]:
    """The open cases of one deal and its invoices (they share its correlation id), newest
    first."""
    rows = conn.execute(
        select(cases)
        .where(cases.c.correlation_id == correlation_id, cases.c.state == str(CaseState.OPEN))
        .order_by(cases.c.updated_at.desc())
    ).all()
    return [_row(r) for r in rows]


def for_deal(conn: Connection, deal_key: str) -> list[ExceptionCase]:
    rows = conn.execute(
        select(cases).where(cases.c.deal_key == deal_key).order_by(cases.c.created_at)
    ).all()
    return [_row(r) for r in rows]


def search(
    conn: Connection,
    *,
    owner: str | None = None,
    state: str | None = CaseState.OPEN,
    older_than: timedelta | None = None,
    limit: int = 200,
) -> list[ExceptionCase]:
    query = select(cases).order_by(cases.c.created_at)
    if owner is not None:
        query = query.where(cases.c.owner == str(owner))
    if state is not None:
        query = query.where(cases.c.state == str(state))
    if older_than is not None:
        query = query.where(cases.c.created_at <= datetime.now(UTC) - older_than)
    return [_row(r) for r in conn.execute(query.limit(limit)).all()]


def _history(case: ExceptionCase) -> list[dict[str, Any]]:
    return list(case.context.get("history") or [])


def note_action(conn: Connection, case_id: str, action: CaseAction) -> None:
    """The deal's workflow took ``action`` on the open case: add it to the case's history.
    The case stays open until the deal gets past the step that failed."""
    case = get(conn, case_id)
    if case is None or case.state != CaseState.OPEN:
        return
    entry = {"at": datetime.now(UTC).isoformat(), "action": str(action)}
    context = {**case.context, "history": [*_history(case), entry]}
    conn.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(context=context, updated_at=datetime.now(UTC))
    )


def resolve(conn: Connection, case_id: str, resolution: str) -> None:
    now = datetime.now(UTC)
    conn.execute(
        update(cases)
        .where(cases.c.case_id == case_id, cases.c.state == str(CaseState.OPEN))
        .values(
            state=str(CaseState.RESOLVED),
            resolution=str(resolution),
            resolved_at=now,
            updated_at=now,
        )
    )


def assign(conn: Connection, case_id: str, assignee: str) -> None:
    conn.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(assignee=assignee, updated_at=datetime.now(UTC))
    )


def open_counts(conn: Connection) -> dict[tuple[str, str], int]:
    """Open cases by (owner, failure class)."""
    rows = conn.execute(
        select(cases.c.owner, cases.c.failure_class, func.count())
        .where(cases.c.state == str(CaseState.OPEN))
        .group_by(cases.c.owner, cases.c.failure_class)
    ).all()
    return {(r[0], r[1]): int(r[2]) for r in rows}
