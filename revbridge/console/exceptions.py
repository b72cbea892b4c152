"""Exceptions: the queue by owner, one case with its context, and the safe actions.

Acting goes through :mod:`revbridge.service.cases` — the commands the API and the CLI
use — with the API's object-level rule (:func:`~revbridge.api.auth.may_act_on`): a
role acts on its own cases (support and admin on all), another owner's case is a 403
and nothing changes. Each action is audited with the console user as the actor and
delivered to the deal's waiting flow. Case context is passed through the redaction
again before it is shown.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from revbridge.api.auth import may_act_on
from revbridge.api.parameters import PathId
from revbridge.canonical.ids import check_id_characters
from revbridge.config.policy import Sla
from revbridge.console.rendering import page
from revbridge.console.session import Actor, ConsoleDep, ConsoleUser, Posted, SignedIn
from revbridge.observability.redaction import scrub
from revbridge.service import cases
from revbridge.service.cases import CaseState, ExceptionCase, Owner

router = APIRouter()
ALL = "all"
STATES: tuple[str, ...] = (*CaseState, ALL)
AGES: dict[str, timedelta | None] = {
    "": None,
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
}
SHOWN = {"findings", "request", "response", "bindings", "order"}


def pretty(value: Any) -> str:
    """``value`` redacted again and laid out as indented JSON."""
    return json.dumps(scrub(value), indent=2, default=str, ensure_ascii=False, sort_keys=True)


def _limits(console: ConsoleDep) -> dict[str, int]:
    policy = console.context.policy
    sla = policy.sla if policy is not None else Sla()
    return {str(owner): int(age) for owner, age in sla.case_age_max_s.items()}


@router.get("/exceptions")
def queue(
    request: Request,
    user: SignedIn,
    console: ConsoleDep,
    owner: str = "",
    state: str = CaseState.OPEN,
    age: Annotated[str, Query(max_length=8)] = "",
) -> HTMLResponse:
    """The queue, oldest first, grouped by owner."""
    if owner and owner not in tuple(Owner):
        raise HTTPException(400, f"owner must be one of {', '.join(Owner)}.")
    if state not in STATES or age not in AGES:
        raise HTTPException(400, "state must be open, resolved or all; age one of the choices.")
    rows = cases.listed(
        console.context.engine,
        owner=Owner(owner) if owner else None,
        state=None if state == ALL else CaseState(state),
        older_than=AGES[age],
        limit=500,
    )
    groups: dict[str, list[ExceptionCase]] = {o: [r for r in rows if r.owner == o] for o in Owner}
    groups.update({r.owner: [x for x in rows if x.owner == r.owner] for r in rows})
    return page(
        request,
        "exceptions.html",
        user,
        groups={k: v for k, v in groups.items() if v},
        count=len(rows),
        owner=owner,
        state=state,
        age=age,
        owners=tuple(Owner),
        states=STATES,
        ages=[a for a in AGES if a],
        limits=_limits(console),
        now=datetime.now(UTC),
    )


def _case(console: ConsoleDep, case_id: str) -> ExceptionCase:
    if len(case_id) > 64:
        raise HTTPException(404, "There is no such exception case.")
    row = cases.get(console.context.engine, case_id)
    if row is None:
        raise HTTPException(404, f"There is no exception case {case_id}.")
    return row


def _owned(console: ConsoleDep, case_id: str, user: ConsoleUser) -> ExceptionCase:
    row = _case(console, case_id)
    if not may_act_on(user, row.owner):
        raise HTTPException(
            403, f"Case {case_id} belongs to {row.owner}; your role ({user.role}) cannot act on it."
        )
    return row


@router.get("/exceptions/{case_id}")
def case_page(
    request: Request,
    case_id: PathId,
    user: SignedIn,
    console: ConsoleDep,
    requested: Annotated[str, Query(max_length=20)] = "",
    assigned: Annotated[str, Query(max_length=5)] = "",
) -> HTMLResponse:
    row = _case(console, case_id)
    context = row.context if isinstance(row.context, dict) else {}
    age = (datetime.now(UTC) - row.created_at).total_seconds()
    return page(
        request,
        "case.html",
        user,
        case=row,
        age_s=age,
        sla_s=_limits(console).get(row.owner),
        may_act=may_act_on(user, row.owner),
        findings=scrub(context.get("findings") or []),
        request_json=pretty(context["request"]) if context.get("request") else None,
        response_json=pretty(context["response"]) if context.get("response") else None,
        bindings=scrub(context.get("bindings") or {}),
        order_json=pretty(context["order"]) if context.get("order") else None,
        other_json=pretty({k: v for k, v in context.items() if k not in SHOWN}),
        requested=requested if requested in cases.ACTIONS else "",
        assigned=assigned == "1",
    )


@router.post("/exceptions/{case_id}/actions")
def act(
    case_id: PathId, form: Posted, user: Actor, console: ConsoleDep, request: Request
) -> Response:
    """Request a safe action; the deal's flow carries it out and resolves the case."""
    action = form.get("action", "")
    if action not in cases.ACTIONS:
        raise HTTPException(400, f"Choose one of {', '.join(cases.ACTIONS)}.")
    _owned(console, case_id, user)
    context = console.context
    try:
        cases.act(context.engine, case_id, action, user.actor, context.signal)
    except cases.CaseActionError as exc:
        raise HTTPException(409, str(exc)) from exc
    base = str(request.scope.get("root_path", "")).rstrip("/")
    return RedirectResponse(f"{base}/exceptions/{case_id}?requested={action}", 303)


@router.post("/exceptions/{case_id}/assign")
def assign(
    case_id: PathId, form: Posted, user: Actor, console: ConsoleDep, request: Request
) -> Response:
    """Give the case to a person (audited with the previous assignee)."""
    assignee = form.get("assignee", "").strip()
    if not 1 <= len(assignee) <= 120:
        raise HTTPException(400, "The assignee is 1 to 120 characters.")
    try:
        check_id_characters(assignee)
    except ValueError as exc:
        raise HTTPException(400, f"The assignee {exc}.") from exc
    _owned(console, case_id, user)
    cases.assign(console.context.engine, case_id, assignee, user.actor)
    base = str(request.scope.get("root_path", "")).rstrip("/")
    return RedirectResponse(f"{base}/exceptions/{case_id}?assigned=1", 303)
