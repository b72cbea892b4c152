"""Exception cases: list with filters, show, act (retry, resume, compensate, cancel), assign.

Acting goes through :mod:`revbridge.service.cases` to :mod:`revbridge.cases.actions`, the
one implementation shared with the CLI and the console, which audits the action with the
case in one transaction. A key acts only on cases its role owns (``sales_ops`` →
``sales_ops`` cases) unless its role is ``integration_support`` or ``admin``; another
owner's case → 403.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from revbridge.api.auth import CaseActor, Principal, Reader, may_act_on
from revbridge.api.deps import JSON_BODY, ApiContext, Context
from revbridge.api.parameters import PathId
from revbridge.api.problems import problem
from revbridge.canonical.ids import check_id_characters
from revbridge.service import cases
from revbridge.service.cases import CaseAction, CaseState, ExceptionCase, Owner

router = APIRouter(prefix="/exceptions", tags=["exceptions"])


class Case(BaseModel):
    case_id: str
    deal: str
    workflow_id: str | None
    state: str
    owner: str
    failure_class: str
    rule: str
    message: str
    guidance: str
    actions: list[str]
    occurrences: int
    assignee: str | None
    correlation_id: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    context: dict[str, Any] | None = None


class CaseList(BaseModel):
    cases: list[Case]


class ActionCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: CaseAction


class AssignCommand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: Annotated[
        str, Field(min_length=1, max_length=120), AfterValidator(check_id_characters)
    ]


class ActionAccepted(BaseModel):
    case_id: str
    action: str
    status: Literal["requested"] = "requested"


def case_view(row: ExceptionCase, full: bool = False) -> Case:
    return Case(
        case_id=row.case_id,
        deal=row.deal_key,
        workflow_id=row.workflow_id,
        state=row.state,
        owner=row.owner,
        failure_class=row.failure_class,
        rule=row.rule,
        message=row.message,
        guidance=row.guidance,
        actions=list(row.actions),
        occurrences=row.occurrences,
        assignee=row.assignee,
        correlation_id=row.correlation_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        resolution=row.resolution,
        context=row.context if full else None,
    )


@router.get("", response_model=CaseList)
def list_cases(
    context: Context,
    _who: Reader,
    owner: Owner | None = None,
    state: Literal["open", "resolved", "all"] = "open",
    older_than_s: Annotated[int | None, Query(ge=0, le=10**9)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> CaseList:
    """Cases, oldest first, filtered by owner, state and age."""
    rows = cases.listed(
        context.engine,
        owner=owner,
        state=None if state == "all" else CaseState(state),
        older_than=None if older_than_s is None else timedelta(seconds=older_than_s),
        limit=limit,
    )
    return CaseList(cases=[case_view(r) for r in rows])


def _case(context: ApiContext, case_id: str) -> ExceptionCase:
    row = cases.get(context.engine, case_id)
    if row is None:
        raise HTTPException(404, f"no exception case {case_id}")
    return row


@router.get("/{case_id}", response_model=Case)
def show_case(case_id: PathId, context: Context, _who: Reader) -> Case:
    """One case with its context: failing request/response (secrets redacted), bindings."""
    return case_view(_case(context, case_id), full=True)


def _owned(context: ApiContext, case_id: str, who: Principal) -> ExceptionCase:
    row = _case(context, case_id)
    if not may_act_on(who, row.owner):
        raise HTTPException(403, f"case {case_id} belongs to {row.owner}, not to {who.role}")
    return row


@router.post(
    "/{case_id}/actions", status_code=202, response_model=ActionAccepted, dependencies=[JSON_BODY]
)
def act(
    case_id: PathId, command: ActionCommand, context: Context, who: CaseActor
) -> ActionAccepted | JSONResponse:
    """Request an action; the deal's waiting flow carries it out and resolves the case."""
    _owned(context, case_id, who)
    try:
        cases.act(context.engine, case_id, command.action, who.actor, context.signal)
    except cases.CaseActionError as exc:
        return problem(409, str(exc), kind="case-action-refused", title="Action refused")
    return ActionAccepted(case_id=case_id, action=command.action)


@router.post("/{case_id}/assign", response_model=Case, dependencies=[JSON_BODY])
def assign(case_id: PathId, command: AssignCommand, context: Context, who: CaseActor) -> Case:
    """Give the case to a person (audited with the previous assignee)."""
    _owned(context, case_id, who)
    cases.assign(context.engine, case_id, command.assignee, who.actor)
    return case_view(_case(context, case_id))
