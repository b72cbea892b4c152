"""The canonical event stream: ingest CloudEvents, read the log after an offset.

``POST /v1/events`` takes a revbridge event in CloudEvents structured mode
(``application/cloudevents+json``) or binary mode (``ce-*`` headers, data as the body).
It must carry an ``id`` (a resend is recognised by source and id); its ``id``,
``source``, ``subject``, ``causationid`` and extension attributes are visible text (a
control or bidi character → 422 naming the attribute). The body is read by
:func:`~revbridge.ingress.payloads.read_json`: nested too deep, not UTF-8 or not Unicode
→ 400; NUL → 422. It is recorded once in
the inbox and appended to the event log with
its audit entry, all in one transaction; the same event again is a ``duplicate``. An
event whose data sets a field another system of record owns is refused with 409.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from revbridge.api import ownership
from revbridge.api.auth import EventWriter, Principal, Reader
from revbridge.api.deps import ApiContext, Context
from revbridge.api.problems import payload_problem, problem
from revbridge.canonical.events import BusinessEvent, EventType, from_binary
from revbridge.ingress.payloads import PayloadError, read_json
from revbridge.service import events

router = APIRouter(prefix="/events", tags=["events"])
STRUCTURED = "application/cloudevents+json"


class Ingested(BaseModel):
    id: str
    source: str
    outcome: Literal["new", "duplicate"]
    offset: int | None


class LoggedEvent(BaseModel):
    offset: int
    event: dict[str, Any]


class EventPage(BaseModel):
    events: list[LoggedEvent]
    next_after: int


_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "description": "A CloudEvents 1.0 event; data is the canonical object its type carries "
    "(`revbridge schema export` gives the full JSON Schema).",
    "required": ["specversion", "id", "source", "type", "correlationid"],
    "properties": {
        "specversion": {"type": "string", "enum": ["1.0"]},
        "id": {"type": "string", "minLength": 1},
        "source": {"type": "string", "minLength": 1},
        "type": {"type": "string", "enum": [t.ce_type for t in EventType]},
        "subject": {"type": "string"},
        "time": {"type": "string", "format": "date-time"},
        "datacontenttype": {"type": "string"},
        "correlationid": {"type": "string", "minLength": 1},
        "causationid": {"type": "string"},
        "data": {"type": "object"},
    },
}
_NO_ID = (
    "the event has no id: CloudEvents requires one, and revbridge recognises a resent event "
    "by its source and id"
)
_BODY = {"requestBody": {"required": True, "content": {STRUCTURED: {"schema": _ENVELOPE}}}}


def _parse(request: Request, body: bytes) -> BusinessEvent | JSONResponse:
    content_type = request.headers.get("content-type", "").lower()
    binary = "ce-specversion" in request.headers
    if not binary and not content_type.startswith((STRUCTURED, "application/json")):
        return problem(415, f"send {STRUCTURED} (structured) or ce-* headers (binary)")
    try:
        raw = None if binary and not body else read_json(body)
    except PayloadError as exc:
        return payload_problem(exc)
    try:
        if binary:
            if not request.headers.get("ce-id"):
                return problem(422, _NO_ID)
            event = from_binary(request.headers, body)
        else:
            if isinstance(raw, dict) and not raw.get("id"):
                return problem(422, _NO_ID)
            event = BusinessEvent.model_validate(raw)
    except ValidationError as exc:
        errors = [
            {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        fields = ", ".join(".".join(e["loc"]) for e in errors)
        return problem(422, f"not a valid revbridge event; invalid fields: {fields}", errors=errors)
    except ValueError as exc:
        return problem(422, str(exc)[:300])
    return event


@router.post("", status_code=202, response_model=Ingested, openapi_extra=_BODY)
async def ingest(request: Request, context: Context, who: EventWriter) -> Any:
    """Record a canonical event once and append it to the event stream."""
    parsed = _parse(request, await request.body())
    if isinstance(parsed, JSONResponse):
        return parsed
    if context.policy is not None:
        found = ownership.conflicts(context.policy, parsed)
        if found:
            await asyncio.to_thread(_record_conflict, context, who, parsed, found)
            first = found[0]
            return problem(
                409,
                f"{first.field} is owned by {first.owner}; {first.writer} may not write it",
                kind="ownership-conflict",
                title="Owned by another system of record",
                rule=first.rule,
                rules=[c.rule for c in found],
            )
    return await asyncio.to_thread(_record, context, who, parsed)


def _record(context: ApiContext, who: Principal, event: BusinessEvent) -> Ingested:
    recorded = events.record(context.engine, event, who.actor)
    return Ingested(
        id=event.id,
        source=event.source,
        outcome="new" if recorded.new else "duplicate",
        offset=recorded.offset,
    )


def _record_conflict(
    context: ApiContext, who: Principal, event: BusinessEvent, found: list[ownership.Conflict]
) -> None:
    refused = {"refused": [c.rule for c in found], "writer": found[0].writer}
    events.refuse(context.engine, event, who.actor, refused)


@router.get("", response_model=EventPage)
def read_events(
    context: Context,
    _who: Reader,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> EventPage:
    """Canonical events with an offset greater than ``after``, oldest first."""
    rows = events.read(context.engine, after=after, limit=limit)
    return EventPage(
        events=[LoggedEvent(offset=r.offset, event=r.event) for r in rows],
        next_after=rows[-1].offset if rows else after,
    )
