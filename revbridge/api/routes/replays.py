"""Replays: run one deal again, or many chosen by a filter, "all except" some.

A replay forks the deal's workflow on the current code and policy (from the start, or
``from_step``); effects are idempotent, so what exists is reused. ``dry_run`` answers the
list of deals that would be replayed and changes nothing. Selection, replay and audit are
the application layer's (:mod:`revbridge.service.replays`), shared with the console and
``revbridge replay``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from revbridge.api.auth import Replayer
from revbridge.api.deps import JSON_BODY, ApiContext, Context
from revbridge.canonical.ids import check_id_characters
from revbridge.service import replays
from revbridge.service.cases import Owner
from revbridge.service.deals import Deal, Status
from revbridge.service.replays import MAX_DEALS

router = APIRouter(prefix="/replays", tags=["replays"])
DealKey = Annotated[
    str,
    Field(min_length=3, max_length=200, pattern=r"^[a-z][a-z0-9_-]*:.+$"),
    AfterValidator(check_id_characters),
]
StepName = Annotated[str, Field(min_length=1, max_length=60), AfterValidator(check_id_characters)]


class ReplayFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status | None = None
    owner: Owner | None = None


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


def selection(command: ReplayCommand) -> replays.Selection:
    """The application layer's selection from the command."""
    chosen = command.filter or ReplayFilter()
    return replays.Selection(
        deal=command.deal,
        status=chosen.status,
        owner=chosen.owner,
        except_=frozenset(command.except_),
        from_step=command.from_step,
    )


def chosen_deals(context: ApiContext, command: ReplayCommand) -> list[Deal]:
    """The deals the command selects now; an unknown deal is a 404."""
    try:
        return replays.choose(context.engine, selection(command))
    except replays.UnknownDealError as exc:
        raise HTTPException(404, str(exc)) from None


def _replayed(result: replays.Replayed) -> Replayed:
    return Replayed(
        deal=result.deal,
        workflow_id=result.workflow_id,
        new_workflow_id=result.new_workflow_id,
        error=result.error,
    )


@router.post("", response_model=ReplayResult, dependencies=[JSON_BODY])
def replay(command: ReplayCommand, context: Context, who: Replayer) -> Any:
    """Preview (``dry_run``) or start replays of the chosen deals."""
    chosen = chosen_deals(context, command)
    if command.dry_run:
        return ReplayResult(
            dry_run=True,
            deals=[Replayed(deal=d.deal_key, workflow_id=d.workflow_id) for d in chosen],
        )
    done = [
        replays.replay(context.engine, context.replay, who.actor, d, command.from_step)
        for d in chosen
    ]
    return ReplayResult(dry_run=False, deals=[_replayed(r) for r in done])
