"""The audit log: read it in order after a sequence number, verify its hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from revbridge.api.auth import Auditor
from revbridge.api.deps import Context
from revbridge.service import audit

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditRecord(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    correlation_id: str | None
    before: Any
    after: Any
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    entries: list[AuditRecord]
    next_after: int


class ChainCheck(BaseModel):
    ok: bool
    rows: int
    bad_seq: int | None
    reason: str


@router.get("", response_model=AuditPage)
def entries(
    context: Context,
    _who: Auditor,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Who did what, when, with before/after: entries after sequence ``after``."""
    found = [
        AuditRecord(**vars(e)) for e in audit.entries(context.engine, after_seq=after, limit=limit)
    ]
    return AuditPage(entries=found, next_after=found[-1].seq if found else after)


@router.get("/verify", response_model=ChainCheck)
def verify(context: Context, _who: Auditor) -> ChainCheck:
    """Walk the hash chain; name the first edited, inserted or deleted entry."""
    report = audit.verify(context.engine)
    return ChainCheck(ok=report.ok, rows=report.rows, bad_seq=report.bad_seq, reason=report.reason)
