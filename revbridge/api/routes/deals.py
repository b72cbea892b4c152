"""Deals across systems: status, ids in each system, timeline and cases; search; flows.

``{deal}`` is the deal's key, the opportunity as ``system:id`` (``salesforce:006…``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from revbridge.api.auth import Reader
from revbridge.api.deps import Context
from revbridge.api.parameters import PathId, SearchText
from revbridge.api.routes.exceptions import Case, case_view
from revbridge.service import deals
from revbridge.service.deals import Deal, Status

router = APIRouter(tags=["deals"])


class DealSummary(BaseModel):
    deal: str
    name: str | None
    account: str | None
    amount: str | None
    currency: str | None
    stage: str
    status: str
    workflow_id: str
    correlation_id: str
    ids: dict[str, Any]
    received_at: datetime
    updated_at: datetime


class TimelineStep(BaseModel):
    step: str
    system: str | None
    outcome: str
    attempt: int
    started_at: datetime
    finished_at: datetime
    detail: dict[str, Any]


class DealStatus(DealSummary):
    closed_at: datetime | None
    accepted_at: datetime | None
    activated_at: datetime | None
    timeline: list[TimelineStep]
    cases: list[Case]


class DealList(BaseModel):
    deals: list[DealSummary]


class FlowList(BaseModel):
    counts: dict[str, int]
    deals: list[DealSummary]


def summary(deal: Deal) -> DealSummary:
    return DealSummary(
        deal=deal.deal_key,
        name=deal.name,
        account=deal.account,
        amount=deal.amount,
        currency=deal.currency,
        stage=deal.stage.value,
        status=deal.status.value,
        workflow_id=deal.workflow_id,
        correlation_id=deal.correlation_id,
        ids=deal.refs,
        received_at=deal.received_at,
        updated_at=deal.updated_at,
    )


@router.get("/deals/{deal}", response_model=DealStatus)
def deal_status(deal: PathId, context: Context, _who: Reader) -> DealStatus:
    """Where the deal stands in every system: stage, status, ids, timeline, cases."""
    shown = deals.view(context.engine, deal)
    if shown is None:
        raise HTTPException(404, f"no deal {deal}")
    found = shown.deal
    return DealStatus(
        **summary(found).model_dump(),
        closed_at=found.closed_at,
        accepted_at=found.accepted_at,
        activated_at=found.activated_at,
        timeline=[TimelineStep.model_validate(s) for s in shown.timeline],
        cases=[case_view(c) for c in shown.cases],
    )


@router.get("/deals", response_model=DealList)
def search_deals(
    context: Context,
    _who: Reader,
    status: Status | None = None,
    q: SearchText = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> DealList:
    """Deals whose key, name, account, correlation id or any system's id contains ``q``
    (newest first); without ``q``, the deals in ``status`` (oldest first) or the newest."""
    found = deals.search(context.engine, q or "", status, limit=limit)
    return DealList(deals=[summary(d) for d in found])


@router.get("/flows", response_model=FlowList)
def flows(
    context: Context,
    _who: Reader,
    state: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> FlowList:
    """Deals by flow state (running, exception, activated, compensated, cancelled)."""
    found = deals.flows(context.engine, state, limit=limit)
    return FlowList(counts=found.counts, deals=[summary(d) for d in found.deals])
