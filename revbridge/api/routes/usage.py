"""Metered usage for the billing meter: ``POST /v1/usage``.

A usage record — ``record_id``, ``customer_id``, ``sku``, an exact ``quantity`` of zero
or more, an RFC 3339 ``timestamp`` and optionally the ``source`` system that measured it
— is checked and stored once by :func:`revbridge.service.usage.submit` (which says why
it refuses one: 409 for a writer that does not own usage or another body under a taken
record id, 422 for an unknown or unmetered SKU, a timestamp outside billing's window or
a customer billing does not know), then its report is started on the workers. New →
202 ``accepted``; the same record again → 200 ``duplicate`` (its report is started again,
which attaches to the first).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from revbridge.api.auth import UsageWriter
from revbridge.api.deps import JSON_BODY, Context
from revbridge.api.problems import problem
from revbridge.service import usage

router = APIRouter(prefix="/usage", tags=["usage"])
log = logging.getLogger(__name__)


class UsageReceived(BaseModel):
    record_id: str
    outcome: Literal["accepted", "duplicate"]


@router.post(
    "",
    status_code=202,
    response_model=UsageReceived,
    dependencies=[JSON_BODY],
    responses={
        200: {"model": UsageReceived, "description": "The same record was received before."},
        409: {"description": "The writer does not own usage, or the record id has another body."},
        422: {"description": "Invalid, unknown SKU or customer, or outside billing's window."},
        503: {"description": "No policy or worker queue yet: send the record again."},
    },
)
async def record_usage(
    record: usage.UsageRecord, context: Context, who: UsageWriter
) -> JSONResponse:
    """Store a usage record once and start its report to the billing meter."""
    if context.policy is None or context.report_usage is None:
        return problem(503, "this server runs without a policy or workers to report usage")
    now = datetime.now(UTC)
    result = await asyncio.to_thread(
        usage.submit, context.engine, context.policy, record, who.actor, now
    )
    if isinstance(result, usage.Refused):
        extra: dict[str, Any] = {}
        if result.rule is not None:
            extra.update(rule=result.rule, rules=[result.rule])
        if result.field is not None:
            error = {"loc": ["body", result.field], "msg": result.detail, "type": "usage_refused"}
            extra["errors"] = [error]
        return problem(result.status, result.detail, kind=result.kind, title=result.title, **extra)
    try:
        await context.report_usage(record.record_id)
    except Exception:
        log.exception("usage record %s: its report could not be started", record.record_id)
        return problem(
            503,
            "the usage record is stored but no worker queue is ready yet; send it again",
            headers={"Retry-After": "5"},
        )
    new = result is usage.Outcome.ACCEPTED
    answer = UsageReceived(record_id=record.record_id, outcome="accepted" if new else "duplicate")
    return JSONResponse(answer.model_dump(), status_code=202 if new else 200)
