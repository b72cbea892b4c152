"""Entitlement activation: tell each provisioning system, once, that a deal's billing is live.

Called from inside a deal's workflow at the moment the policy's ``entitlements.trigger``
names: ``subscription_active`` when the deal is activated (quote-to-cash), or
``first_invoice_paid`` when an invoice of the deal is paid (receivables). For each
endpoint not yet told about the deal:

signed POST of the booked plan (retried with backoff while the endpoint is down) → the
step recorded on the deal's timeline, the activation in ``rb_entitlements``, its audit
entry and ``entitlement.activated`` in one transaction → never sent again.

The ``webhook-id`` is derived from the deal and the endpoint, so a delivery sent again
(after a crash between the POST and its checkpoint, or by two invoice runs at once) is
one the receiver has seen. An endpoint that refuses (``entitlements.rejected``) or stays
down (``entitlements.unavailable``) gets one case, keyed ``entitlement:<deal>:<endpoint>``,
and the workflow waits for its owner's ``retry`` or ``cancel``.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from dbos import DBOS

from revbridge.canonical import EventType
from revbridge.cases.model import CaseAction, action_named
from revbridge.errors import PermanentError, RetryableError
from revbridge.flows import casework, runtime
from revbridge.flows.casework import _event
from revbridge.flows.outcomes import StepFailure, failure_from_error
from revbridge.flows.runtime import services
from revbridge.flows.steps import _store
from revbridge.observability import context, tracing
from revbridge.ports import Activation, OrderPlan
from revbridge.store import audit, deals
from revbridge.store import entitlements as store
from revbridge.stream import sql_log

__all__ = ["STEP", "activate", "case_key", "webhook_id"]

#: The step's name on the deal's timeline and in its cases.
STEP = "activate_entitlements"
NAMESPACE = uuid.UUID("0b6f4a52-8c1e-4e39-9a7d-51c2d7e3f1a4")
#: What the owner of an entitlement case may do: send again, or give this endpoint up.
ACTIONS = [CaseAction.RETRY, CaseAction.CANCEL]
log = logging.getLogger(__name__)


def webhook_id(deal_key: str, endpoint: str) -> str:
    """The ``webhook-id`` of every delivery of this deal to this endpoint."""
    return f"ent_{uuid.uuid5(NAMESPACE, f'{deal_key}:{endpoint}').hex}"


def case_key(deal_key: str, endpoint: str) -> str:
    """The subject of the case an endpoint's failure opens (one per deal and endpoint)."""
    return f"entitlement:{deal_key}:{endpoint}"


async def activate(deal_key: str, correlation_id: str, plan: OrderPlan, trigger: str) -> None:
    """Inside a workflow: when ``trigger`` is the policy's, tell every endpoint not yet told."""
    svc = runtime.services()
    section = svc.policy.entitlements
    if section is None or svc.entitlements is None or section.trigger != trigger:
        return
    done = await activated_endpoints(deal_key)
    for endpoint in section.endpoints:
        if endpoint.name in done:
            continue
        activation = Activation(
            endpoint=endpoint.name,
            webhook_id=webhook_id(deal_key, endpoint.name),
            deal=deal_key,
            correlation_id=correlation_id,
            plan=plan,
        )
        await _deliver(activation)


async def _deliver(activation: Activation) -> None:
    """Send until the endpoint accepts, or its case's owner cancels."""
    subject = case_key(activation.deal, activation.endpoint)
    acted: tuple[str, CaseAction] | None = None
    while True:
        failure = await send_activation(activation)
        if failure is None:
            if acted is not None:
                await casework.case_cleared(subject, *acted, activation.correlation_id)
                await casework.stamp_exception(activation.deal, activation.correlation_id)
            return
        context = {"deal": activation.deal, "endpoint": activation.endpoint}
        case_id, occurrence = await casework.open_case(
            subject, DBOS.workflow_id or "", activation.correlation_id, failure, ACTIONS, context
        )
        await casework.stamp_exception(activation.deal, activation.correlation_id)
        message = await runtime.wait_for_action(case_id, occurrence)
        action = action_named(str(message.get("action"))) or CaseAction.RETRY
        if action not in ACTIONS:
            action = CaseAction.RETRY
        await casework.case_acted(subject, case_id, action, activation.correlation_id)
        if action is CaseAction.CANCEL:
            await casework.stamp_exception(activation.deal, activation.correlation_id)
            return
        acted = (case_id, action)


@DBOS.step()
async def activated_endpoints(deal_key: str) -> set[str]:
    return await _store(lambda conn: store.activated_endpoints(conn, deal_key))


def failure_class(error: Exception) -> str:
    """An endpoint's failure: refused, or down after every retry (else a defect of ours)."""
    if isinstance(error, RetryableError):
        return "entitlements.unavailable"
    if isinstance(error, PermanentError):
        return "entitlements.rejected"
    return "integration.defect"


@DBOS.step()
async def send_activation(activation: Activation) -> StepFailure | None:
    """POST the activation; on success record it (row, timeline, audit, event) at once."""
    started = datetime.now(UTC)
    deal_key, endpoint = activation.deal, activation.endpoint
    port = services().entitlements
    assert port is not None
    with (
        context.bound(correlation=activation.correlation_id, deal_key=deal_key, step_name=STEP),
        tracing.span(f"step {STEP}", attributes={tracing.SYSTEM: endpoint}) as span,
    ):
        try:
            await port.activate(activation)
        except Exception as exc:  # every failure becomes a case, never a crashed flow
            failure = failure_from_error(STEP, exc).model_copy(
                update={"failure_class": failure_class(exc), "system": endpoint}
            )
            tracing.failed(span, failure.failure_class, failure.message)
            log.warning(
                "step failed: %s",
                failure.message,
                extra={"system": endpoint, "failure_class": failure.failure_class},
            )
            detail = {"failure_class": failure.failure_class, "message": failure.message}
            await _store(
                lambda conn: deals.record_step(
                    conn, deal_key, STEP, "failed", started, endpoint, detail=detail
                )
            )
            return failure
        await _store(lambda conn: _activated(conn, activation, started))
        log.info("step done", extra={"system": endpoint})
    return None


def _activated(conn: Any, activation: Activation, started: datetime) -> None:
    deal_key, endpoint, sent_as = activation.deal, activation.endpoint, activation.webhook_id
    detail = {"endpoint": endpoint, "webhook_id": sent_as}
    deals.record_step(conn, deal_key, STEP, "ok", started, endpoint, detail=detail)
    if not store.record_activation(conn, deal_key, endpoint, sent_as):
        return  # another run of the deal recorded it first
    audit.append(
        conn,
        actor="revbridge",
        action="entitlement.activated",
        subject=deal_key,
        after=detail,
        correlation_id=activation.correlation_id,
    )
    order = activation.plan.order
    data = {
        **detail,
        "order_id": order.order_id,
        "customer_id": order.customer.customer_id,
        "products": [{"sku": line.sku, "quantity": str(line.quantity)} for line in order.lines],
    }
    event = _event(
        EventType.ENTITLEMENT_ACTIVATED, deal_key, activation.correlation_id, data, sent_as
    )
    sql_log.append(conn, event)
