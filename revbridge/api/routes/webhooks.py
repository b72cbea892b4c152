"""Webhooks: billing events and CRM change pushes. Authenticated by signature, not API key.

``POST /v1/webhooks/stripe`` hands the body to the billing events port
(:class:`~revbridge.ports.BillingEventsPort`, Stripe's in
:mod:`revbridge.connectors.stripe.events`), which checks the signature before anything is
stored and reads the event: unsigned, forged or too old → 400 problem, nothing recorded;
a body :func:`~revbridge.ingress.payloads.read_json` refuses → 400 (422 for NUL); not an
event → 400. A valid event is recorded in the inbox (its source and event id) and, when it
means a canonical event, the run of the invoice's phase is started on the workers' queue
(:mod:`revbridge.flows.receivables`, which appends ``invoice.posted`` and
``payment.received`` once the ERP has them); the same event id again → 200 ``duplicate``.

``POST /v1/webhooks/{system}/changes`` is :mod:`revbridge.ingress.webhooks`' receiver for
signed CRM change events, served here.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from revbridge.api.deps import Context
from revbridge.api.problems import payload_problem, problem
from revbridge.errors import AuthError
from revbridge.ingress import billing
from revbridge.ingress.payloads import PayloadError
from revbridge.ingress.webhooks import webhook_app

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class WebhookReceipt(BaseModel):
    id: str
    outcome: Literal["new", "duplicate"]
    canonical_type: str | None = None


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
    reader = context.billing_events
    if reader is None:
        return problem(400, "no Stripe webhook secret is configured", kind="signature")
    try:
        event = reader.read_event(request.headers, body, time.time())
    except AuthError as exc:
        return problem(400, str(exc), kind="signature", title="Signature rejected")
    except PayloadError as exc:
        return payload_problem(exc)
    except ValueError as exc:
        return problem(400, str(exc))
    recorded = await billing.accept(context.engine, context.settle, event, reader.system)
    receipt = WebhookReceipt(
        id=event.event_id,
        outcome="new" if recorded.new else "duplicate",
        canonical_type=None if event.canonical is None else event.canonical.type.ce_type,
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
