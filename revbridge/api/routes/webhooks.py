"""Webhooks: Stripe events and CRM change pushes. Authenticated by signature, not API key.

``POST /v1/webhooks/stripe`` checks ``Stripe-Signature`` (see :mod:`revbridge.api.signatures`)
before anything is stored: unsigned, forged or older than 300 s → 400 problem, nothing
recorded. A signed body is then read by :func:`~revbridge.ingress.payloads.read_json`
(nested too deep, not UTF-8 or not Unicode → 400; NUL → 422) and must be an object
with an ``evt_`` id of visible characters. A valid event is recorded in the inbox
(source ``stripe``, its ``evt_…`` id) and, for the types in :data:`STRIPE_EVENTS`,
appended to the event log as the canonical event, audited, in one transaction; the same
event id again → 200 ``duplicate``.

``POST /v1/webhooks/{system}/changes`` is :mod:`revbridge.ingress.webhooks`' receiver for
signed CRM change events, served here.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from revbridge.api import signatures
from revbridge.api.deps import ApiContext, Context
from revbridge.api.problems import payload_problem, problem
from revbridge.canonical.events import BusinessEvent, EventType
from revbridge.canonical.ids import check_id_characters
from revbridge.ingress.payloads import PayloadError, read_json
from revbridge.ingress.webhooks import webhook_app
from revbridge.store import audit, deals, inbox
from revbridge.store.inbox import InboundEvent, Outcome
from revbridge.stream import sql_log

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

#: Stripe event type → the canonical event it becomes (others are recorded only).
STRIPE_EVENTS: dict[str, EventType] = {
    "invoice.finalized": EventType.INVOICE_POSTED,
    "invoice.paid": EventType.PAYMENT_RECEIVED,
}
_NAMESPACE = uuid.UUID("6f1f4d1e-4c5b-4e3e-9a57-2f0f6f9b1c11")


class WebhookReceipt(BaseModel):
    id: str
    outcome: Literal["new", "duplicate"]
    canonical_type: str | None = None
    offset: int | None = None


_RAW_JSON = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.post("/stripe", response_model=WebhookReceipt, openapi_extra=_RAW_JSON)
async def stripe(request: Request, context: Context) -> Any:
    """A Stripe event, verified by its signature."""
    body = await request.body()
    if context.stripe_secret is None:
        return problem(400, "no Stripe webhook secret is configured", kind="signature")
    try:
        signatures.verify(
            request.headers.get("stripe-signature"), body, context.stripe_secret, time.time()
        )
    except signatures.SignatureError as exc:
        return problem(400, str(exc), kind="signature", title="Signature rejected")
    try:
        event = read_json(body)
    except PayloadError as exc:
        return payload_problem(exc)
    if not isinstance(event, dict) or not _is_event_id(event.get("id")):
        return problem(400, "a Stripe event is an object with an evt_ id of visible characters")
    return await asyncio.to_thread(_record, context, event)


def _is_event_id(value: Any) -> bool:
    if not isinstance(value, str) or not value.startswith("evt_"):
        return False
    try:
        check_id_characters(value)
    except ValueError:
        return False
    return True


def canonical_event(event: dict[str, Any]) -> BusinessEvent | None:
    """The canonical event a Stripe event stands for, if any (data: the Stripe ids)."""
    kind = STRIPE_EVENTS.get(str(event.get("type")))
    if kind is None:
        return None
    obj = event.get("data", {}).get("object", {}) if isinstance(event.get("data"), dict) else {}
    obj = obj if isinstance(obj, dict) else {}
    correlation = _correlation_of(obj) or f"stripe-{event['id']}"
    extra = {"stripeevent": str(event["id"])}
    if isinstance(obj.get("customer"), str):
        extra["stripecustomer"] = obj["customer"]
    created = event.get("created")
    when = {"time": datetime.fromtimestamp(created, UTC)} if type(created) is int else {}
    return BusinessEvent(
        id=str(uuid.uuid5(_NAMESPACE, str(event["id"]))),
        source="/stripe",
        type=kind,
        **when,
        subject=f"stripe:{obj['id']}" if isinstance(obj.get("id"), str) else None,
        correlationid=correlation[:128] if correlation.isascii() else f"stripe-{event['id']}",
        **extra,
    )


def _correlation_of(obj: dict[str, Any]) -> str | None:
    """The deal's correlation id revbridge put in the metadata of the Stripe object, or of
    the subscription an invoice bills (``parent.subscription_details`` on current API
    versions, ``subscription_details`` on older ones)."""
    parent = obj.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    for holder in (obj, details, obj.get("subscription_details")):
        metadata = holder.get("metadata") if isinstance(holder, dict) else None
        if isinstance(metadata, dict) and isinstance(metadata.get("correlation_id"), str):
            return str(metadata["correlation_id"])
    return None


def _record(context: ApiContext, event: dict[str, Any]) -> JSONResponse:
    event_id = str(event["id"])[:200]
    canonical = canonical_event(event)
    inbound = InboundEvent(
        source="stripe",
        event_id=event_id,
        event_type=str(event.get("type", "unknown"))[:100],
        payload=event,
        correlation_id=None if canonical is None else canonical.correlationid,
    )
    offset = None
    with context.engine.begin() as conn:
        outcome = inbox.record(conn, inbound)
        if outcome is Outcome.NEW:
            if canonical is not None:
                offset = sql_log.append(
                    conn, json.loads(canonical.model_dump_json(exclude_none=True))
                )
                if canonical.type is EventType.INVOICE_POSTED:
                    deals.mark_invoiced(conn, canonical.correlationid, canonical.time)
            audit.append(
                conn,
                actor="webhook:stripe (signature)",
                action="webhook.received",
                subject=f"stripe#{event_id}",
                after={"type": inbound.event_type, "offset": offset},
            )
    receipt = WebhookReceipt(
        id=event_id,
        outcome="new" if outcome is Outcome.NEW else "duplicate",
        canonical_type=None if canonical is None else canonical.type.ce_type,
        offset=offset,
    )
    return JSONResponse(receipt.model_dump(), status_code=200)


@router.post(
    "/{system}/changes",
    status_code=202,
    openapi_extra=_RAW_JSON,
    responses={202: {"description": "Recorded; flows started"}},
)
async def crm_changes(system: str, request: Request, context: Context) -> Response:
    """Signed change events pushed by a CRM (Salesforce: Standard-Webhooks style)."""
    if context.start is None or not context.receivers:
        return problem(404, f"no change webhook for {system!r}")
    receiver_app = webhook_app(context.engine, context.start, context.receivers)
    endpoint = receiver_app.routes[0].endpoint  # type: ignore[attr-defined]
    response: Response = await endpoint(request)
    return response
