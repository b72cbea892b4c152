"""Order packages submitted directly, for CPQ tools and partner portals.

``POST /v1/orders`` takes a canonical order (and its customer's parents), runs the same
readiness rules as a closed-won deal — refusing with 422 and every finding when one
fails, storing nothing — and otherwise stores the package and starts the same
quote-to-cash flow under the deal key ``api:<order id>``. Resubmitting the order replaces
the package (a ``resume`` of its exception case re-reads it); the flow itself is started
once per order. ``GET /v1/deals/api:<order id>`` follows it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from revbridge.api.auth import OrderSubmitter, Principal
from revbridge.api.deps import JSON_BODY, ApiContext, Context
from revbridge.api.problems import problem
from revbridge.canonical import Customer, ExternalRef, Order, correlation_id_for
from revbridge.ingress.deals import ClosedWon, accept
from revbridge.ports import DealPackage
from revbridge.rules.readiness import plan
from revbridge.service import orders

router = APIRouter(prefix="/orders", tags=["orders"])
log = logging.getLogger(__name__)


class OrderSubmission(BaseModel):
    """An order package: the order, and its customer's parents from the root down."""

    model_config = ConfigDict(extra="forbid")
    order: Order
    parents: list[Customer] = Field(default_factory=list, max_length=5)
    name: str | None = Field(default=None, max_length=255)


class OrderAccepted(BaseModel):
    deal: str
    outcome: Literal["new", "duplicate"]
    status_url: str


@router.post(
    "",
    status_code=202,
    response_model=OrderAccepted,
    dependencies=[JSON_BODY],
    responses={422: {"description": "The order breaks a readiness rule; nothing is stored."}},
)
async def submit_order(
    submission: OrderSubmission, context: Context, who: OrderSubmitter, request: Request
) -> JSONResponse:
    """Validate an order package like a closed-won deal and start its quote-to-cash flow."""
    if context.policy is None or context.start is None:
        return problem(503, "this server runs without a policy or workers to book orders")
    order = submission.order
    hierarchy = (*submission.parents, order.customer)
    findings = plan(order, hierarchy, context.policy)
    if isinstance(findings, list):
        return problem(
            422,
            "; ".join(f.message for f in findings),
            kind="order-not-ready",
            title="Order not ready",
            findings=[
                {"rule": f.failure_class, "message": f.message, "guidance": f.guidance}
                for f in findings
            ],
        )
    ref = ExternalRef(system=orders.SOURCE, id=order.order_id)
    body = await request.body()
    version = hashlib.sha256(body).hexdigest()[:32]
    package = DealPackage(
        order=order.model_copy(update={"correlation_id": correlation_id_for(ref)}),
        hierarchy=hierarchy,
        stage="Closed Won",
        is_won=True,
        version=version,
        closed_at=datetime.now(UTC),
        name=submission.name,
    )
    await asyncio.to_thread(_store, context, who, str(ref), package)
    signal = ClosedWon(
        source=orders.SOURCE,
        event_id=f"{order.order_id}:{version}",
        deal=ref,
        version=version,
        occurred_at=package.closed_at,
        payload={"order_id": order.order_id},
    )
    try:
        outcome = await accept(context.engine, context.start, signal)
    except Exception:
        log.exception("order %s: its flow could not be started", ref)
        return problem(
            503,
            "the order is stored but no worker queue is ready yet; submit it again to start it",
            headers={"Retry-After": "5"},
        )
    answer = OrderAccepted(
        deal=str(ref),
        outcome="new" if outcome.value == "new" else "duplicate",
        status_url=f"/v1/deals/{ref}",
    )
    return JSONResponse(answer.model_dump(), status_code=202)


def _store(context: ApiContext, who: Principal, key: str, package: DealPackage) -> None:
    orders.submit(context.engine, key, package, who.actor)
