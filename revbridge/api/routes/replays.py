"""Replays: run one deal again, or many chosen by a filter, "all except" some.

A replay forks the deal's workflow on the current code and policy (from the start, or
``from_step``); effects are idempotent, so what exists is reused. ``dry_run`` answers the
list of deals that would be replayed and changes nothing. Each replay is audited.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection

from revbridge.api.auth import Principal, Replayer
from revbridge.api.deps import JSON_BODY, ApiContext, Context
from revbridge.canonical.ids import check_id_characters
from revbridge.store import audit, cases, deals
from revbridge.store.deals import Status

router = APIRouter(prefix="/replays", tags=["replays"])
MAX_DEALS = 1000
DealKey = Annotated[
    str,
    Field(min_length=3, max_length=200, pattern=r"^[a-z][a-z0-9_-]*:.+$"),
    AfterValidator(check_id_characters),
]
StepName = Annotated[str, Field(min_length=1, max_length=60), AfterValidator(check_id_characters)]


class ReplayFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status | None = None
    owner: Literal["sales_ops", "finance_ops", "integration_support"] | None = None


class ReplayCommand(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    deal: DealKey | None = None
    filter: ReplayFilter | None = None
    except_: Annotated[list[DealKey], Field(alias="except", max_length=MAX_DEALS)] = []
    dry_run: bool = False
    from_step: StepName | None = None

    @model_validator(mode="after")
    def _one_selection(self) -> ReplayCommand:
        if (self.deal is None) == (self.filter is None):
            raise ValueError("give either deal or filter")
        return self


class Replayed(BaseModel):
    deal: str
    workflow_id: str
    new_workflow_id: str | None = None
    error: str | None = None


class ReplayResult(BaseModel):
    dry_run: bool
    deals: list[Replayed]


def chosen_deals(conn: Connection, command: ReplayCommand) -> list[deals.Deal]:
    if command.deal is not None:
        found = deals.get(conn, command.deal)
        if found is None:
            raise HTTPException(404, f"no deal {command.deal}")
        return [found]
    assert command.filter is not None
    chosen = deals.by_status(conn, command.filter.status, limit=MAX_DEALS)
    if command.filter.owner is not None:
        owned = {c.deal_key for c in cases.search(conn, owner=command.filter.owner, limit=10**6)}
        chosen = [d for d in chosen if d.deal_key in owned]
    skipped = set(command.except_)
    return [d for d in chosen if d.deal_key not in skipped]


@router.post("", response_model=ReplayResult, dependencies=[JSON_BODY])
def replay(command: ReplayCommand, context: Context, who: Replayer) -> Any:
    """Preview (``dry_run``) or start replays of the chosen deals."""
    with context.engine.connect() as conn:
        chosen = chosen_deals(conn, command)
    if command.dry_run:
        return ReplayResult(
            dry_run=True,
            deals=[Replayed(deal=d.deal_key, workflow_id=d.workflow_id) for d in chosen],
        )
    return ReplayResult(dry_run=False, deals=[replay_one(context, who, d, command) for d in chosen])


def replay_one(
    context: ApiContext, who: Principal, deal: deals.Deal, command: ReplayCommand
) -> Replayed:
    result = Replayed(deal=deal.deal_key, workflow_id=deal.workflow_id)
    try:
        result.new_workflow_id = context.replay(deal.workflow_id, command.from_step)
    except ValueError as exc:
        result.error = str(exc)[:300]
    with context.engine.begin() as conn:
        audit.append(
            conn,
            actor=who.actor,
            action="deal.replay",
            subject=deal.deal_key,
            before={"workflow_id": deal.workflow_id, "status": deal.status.value},
            after={"new_workflow_id": result.new_workflow_id, "error": result.error},
            correlation_id=deal.correlation_id,
        )
    return result
