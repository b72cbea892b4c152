"""The checkpointed steps of quote-to-cash: one external effect or one store write each.

Each step calls a port (or the store), records the outcome on the deal's timeline and
the bindings it created, and returns either its value or a :class:`StepFailure`. DBOS
checkpoints the return value, so a completed step never runs again after a crash; a step
interrupted mid-way runs again, which is safe because every effect is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from dbos import DBOS

from revbridge.canonical import Customer, ExternalRef, correlation_id_for
from revbridge.errors import NotFoundError
from revbridge.flows.outcomes import StepFailure, failure_from_error
from revbridge.flows.runtime import services
from revbridge.flows.step_names import Step
from revbridge.observability import context, tracing
from revbridge.ports import (
    DealPackage,
    DealStatus,
    EntityContext,
    ErpOrderState,
    OrderPlan,
    TaxQuote,
)
from revbridge.rules.readiness import plan as plan_deal
from revbridge.store import bindings, deals, packages, turns
from revbridge.store.deals import Stage

T = TypeVar("T")
log = logging.getLogger(__name__)


def _store(work: Callable[[Any], T]) -> Awaitable[T]:
    """Run ``work(conn)`` in one transaction off the event loop."""

    def run() -> T:
        with services().engine.begin() as conn:
            return work(conn)

    return asyncio.to_thread(run)


async def _effect(
    step: Step,
    deal_key: str,
    system: str,
    call: Callable[[], Awaitable[T]],
    after: Callable[[Any, T], dict[str, Any]] | None = None,
) -> T | StepFailure:
    started = datetime.now(UTC)
    correlation = correlation_id_for(ExternalRef.parse(deal_key))
    with (
        context.bound(correlation=correlation, deal_key=deal_key, step_name=step),
        tracing.span(f"step {step}", attributes={tracing.SYSTEM: system}) as span,
    ):
        try:
            value = await call()
        except Exception as exc:  # every failure becomes a case, never a crashed flow
            failure = failure_from_error(step, exc)
            tracing.failed(span, failure.failure_class, failure.message)
            log.warning(
                "step failed: %s",
                failure.message,
                extra={"system": system, "failure_class": failure.failure_class},
            )
            await _store(
                lambda conn: deals.record_step(
                    conn,
                    deal_key,
                    step,
                    "failed",
                    started,
                    system,
                    detail={"failure_class": failure.failure_class, "message": failure.message},
                )
            )
            return failure

    def done(conn: Any) -> None:
        detail = after(conn, value) if after is not None else {}
        deals.record_step(conn, deal_key, step, "ok", started, system, detail=detail)

    await _store(done)
    with context.bound(correlation=correlation, deal_key=deal_key, step_name=step):
        log.info("step done", extra={"system": system})
    _maybe_crash(step)
    return value


def _maybe_crash(step: Step) -> None:
    """Chaos hook: with ``REVBRIDGE_KILL_AFTER_STEP=<step>`` the process SIGKILLs itself
    once, right after that step's effect happened and before DBOS checkpointed it (the
    worst moment); the file named by ``REVBRIDGE_KILL_MARKER`` records that it did."""
    if os.environ.get("REVBRIDGE_KILL_AFTER_STEP") != step:
        return
    marker = Path(os.environ.get("REVBRIDGE_KILL_MARKER", "revbridge.killed"))
    if marker.exists():
        return
    marker.write_text(step)
    os.kill(os.getpid(), signal.SIGKILL)


@DBOS.step()
async def register_deal(deal_key: str, workflow_id: str, correlation_id: str) -> None:
    await _store(lambda conn: deals.register(conn, deal_key, workflow_id, correlation_id))


@DBOS.step()
async def now() -> float:
    return time.time()


@DBOS.step()
async def take_turn(deal_key: str, account: str, workflow_id: str) -> bool:
    """Queue the deal behind its account's earlier deals; True when it may run now."""

    def work(conn: Any) -> bool:
        deal = deals.get(conn, deal_key)
        closed = deal.closed_at or deal.received_at if deal is not None else datetime.now(UTC)
        return turns.take(conn, account, deal_key, workflow_id, closed)

    return await _store(work)


@DBOS.step()
async def give_turn(deal_key: str, account: str) -> str | None:
    """The deal is over: free its account's turn; returns the next deal's workflow id."""
    return await _store(lambda conn: turns.give_back(conn, account, deal_key))


@DBOS.step()
async def fetch_deal(deal_key: str, deal: ExternalRef) -> DealPackage | StepFailure:
    crm = services().crm

    def facts(conn: Any, package: DealPackage) -> dict[str, Any]:
        order = package.order
        deals.advance(
            conn,
            deal_key,
            name=package.name or order.customer.name,
            account=order.customer.name,
            amount=str(order.total.amount) if order.lines else None,
            currency=str(order.currency),
        )
        return {"opportunity": deal.id, "version": package.version, "lines": len(order.lines)}

    if deal.system == packages.SOURCE:
        return await _effect(
            Step.FETCH_DEAL, deal_key, packages.SOURCE, lambda: _submitted(deal_key), facts
        )
    return await _effect(Step.FETCH_DEAL, deal_key, crm.system, lambda: crm.fetch_deal(deal), facts)


async def _submitted(deal_key: str) -> DealPackage:
    """An order package submitted through the API, as last (re)submitted."""
    stored = await _store(lambda conn: packages.load(conn, deal_key))
    if stored is None:
        raise NotFoundError(f"no submitted order package {deal_key}", code="NO_PACKAGE")
    return DealPackage.model_validate(stored)


@DBOS.step()
async def validate(deal_key: str, package: DealPackage) -> OrderPlan | StepFailure:
    """Run the readiness rules on the deal against the policy in force."""
    started = datetime.now(UTC)
    result = plan_deal(package.order, package.hierarchy, services().policy)
    if isinstance(result, OrderPlan):
        refs = {"legal_entity": result.entity.code}

        def ok(conn: Any) -> None:
            deals.advance(conn, deal_key, Stage.VALIDATED, refs=refs)
            deals.record_step(conn, deal_key, Step.VALIDATE, "ok", started, detail=refs)

        await _store(ok)
        return result
    findings = [{"rule": f.rule, "message": f.message, "guidance": f.guidance} for f in result]
    first = result[0]

    def failed(conn: Any) -> None:
        deals.record_step(
            conn, deal_key, Step.VALIDATE, "failed", started, detail={"findings": findings}
        )

    await _store(failed)
    return StepFailure(
        step=Step.VALIDATE,
        failure_class=first.failure_class,
        message="; ".join(f.message for f in result),
        findings=findings,
    )


@DBOS.step()
async def upsert_erp_customer(
    deal_key: str, customer: Customer, parent: ExternalRef | None, entity: EntityContext
) -> ExternalRef | StepFailure:
    erp = services().erp

    def bind(conn: Any, ref: ExternalRef) -> dict[str, Any]:
        bindings.bind(conn, "customer", customer.customer_id, ref.system, ref.id)
        return {"customer": customer.customer_id, "erp_customer": ref.id}

    return await _effect(
        Step.UPSERT_ERP_CUSTOMER,
        deal_key,
        erp.system,
        lambda: erp.upsert_customer(customer, parent, entity),
        bind,
    )


@DBOS.step()
async def quote_tax(deal_key: str, plan: OrderPlan) -> TaxQuote | StepFailure:
    tax = services().tax

    def bind(conn: Any, quote: TaxQuote) -> dict[str, Any]:
        doc = quote.document
        bindings.bind(conn, "tax_document", plan.order.order_id, doc.system, doc.id)
        deals.advance(conn, deal_key, Stage.TAX_QUOTED, refs={"tax_document": doc.id})
        return {"document": doc.id, "total_tax": str(quote.total_tax.amount)}

    return await _effect(Step.QUOTE_TAX, deal_key, tax.system, lambda: tax.quote_tax(plan), bind)


@DBOS.step()
async def submit_sales_order(
    deal_key: str, plan: OrderPlan, customer: ExternalRef, tax: TaxQuote | None
) -> ExternalRef | StepFailure:
    erp = services().erp

    def bind(conn: Any, ref: ExternalRef) -> dict[str, Any]:
        bindings.bind(conn, "order", plan.order.order_id, ref.system, ref.id)
        deals.advance(conn, deal_key, Stage.ORDER_SUBMITTED, refs={"erp_order": ref.id})
        return {"erp_order": ref.id, "subsidiary": plan.entity.erp_subsidiary}

    return await _effect(
        Step.SUBMIT_SALES_ORDER,
        deal_key,
        erp.system,
        lambda: erp.submit_sales_order(plan, customer, tax),
        bind,
    )


@DBOS.step()
async def ensure_billing_customer(
    deal_key: str, customer: Customer, entity: EntityContext
) -> ExternalRef | StepFailure:
    billing = services().billing

    def bind(conn: Any, ref: ExternalRef) -> dict[str, Any]:
        bindings.bind(conn, "customer", customer.customer_id, ref.system, ref.id)
        deals.advance(conn, deal_key, refs={"billing_customer": ref.id})
        return {"billing_customer": ref.id}

    return await _effect(
        Step.ENSURE_BILLING_CUSTOMER,
        deal_key,
        billing.system,
        lambda: billing.ensure_customer(customer, entity),
        bind,
    )


@DBOS.step()
async def start_subscription(
    deal_key: str, plan: OrderPlan, customer: ExternalRef, tax: TaxQuote | None = None
) -> ExternalRef | StepFailure | None:
    billing = services().billing

    def bind(conn: Any, ref: ExternalRef | None) -> dict[str, Any]:
        if ref is None:
            return {"subscription": None}
        bindings.bind(conn, "subscription", plan.order.order_id, ref.system, ref.id)
        deals.advance(conn, deal_key, refs={"billing_subscription": ref.id})
        return {"subscription": ref.id}

    return await _effect(
        Step.START_SUBSCRIPTION,
        deal_key,
        billing.system,
        lambda: billing.start_subscription(plan, customer, tax),
        bind,
    )


@DBOS.step()
async def add_invoice_items(
    deal_key: str, plan: OrderPlan, customer: ExternalRef, tax: TaxQuote | None = None
) -> tuple[ExternalRef, ...] | StepFailure:
    billing = services().billing

    def bind(conn: Any, refs: tuple[ExternalRef, ...]) -> dict[str, Any]:
        ids = [r.id for r in refs]
        deals.advance(conn, deal_key, Stage.BILLING_READY, refs={"invoice_items": ids})
        return {"invoice_items": ids}

    return await _effect(
        Step.ADD_INVOICE_ITEMS,
        deal_key,
        billing.system,
        lambda: billing.add_invoice_items(plan, customer, tax),
        bind,
    )


@DBOS.step()
async def check_order_state(deal_key: str, order: ExternalRef) -> ErpOrderState | StepFailure:
    erp = services().erp
    correlation = correlation_id_for(ExternalRef.parse(deal_key))
    with (
        context.bound(correlation=correlation, deal_key=deal_key, step_name=Step.CHECK_ORDER_STATE),
        tracing.span(
            f"step {Step.CHECK_ORDER_STATE}", attributes={tracing.SYSTEM: erp.system}
        ) as span,
    ):
        try:
            return await erp.get_order_state(order)
        except Exception as exc:
            failure = failure_from_error(Step.CHECK_ORDER_STATE, exc)
            tracing.failed(span, failure.failure_class, failure.message)
            return failure


@DBOS.step()
async def write_back(deal_key: str, deal: ExternalRef, status: DealStatus) -> StepFailure | None:
    crm = services().crm
    if deal.system == packages.SOURCE:
        return None  # submitted directly: the submitter reads the status from the API
    return await _effect(
        Step.WRITE_BACK,
        deal_key,
        crm.system,
        lambda: crm.write_back(deal, status),
        lambda conn, _: {"status": status.status},
    )


@DBOS.step()
async def close_sales_order(deal_key: str, order: ExternalRef) -> StepFailure | None:
    erp = services().erp
    return await _effect(
        Step.CLOSE_SALES_ORDER, deal_key, erp.system, lambda: erp.close_sales_order(order)
    )


@DBOS.step()
async def cancel_subscription(deal_key: str, subscription: ExternalRef) -> StepFailure | None:
    billing = services().billing
    return await _effect(
        Step.CANCEL_SUBSCRIPTION,
        deal_key,
        billing.system,
        lambda: billing.cancel_subscription(subscription),
    )


@DBOS.step()
async def void_tax(
    deal_key: str, document: ExternalRef, entity: EntityContext
) -> StepFailure | None:
    tax = services().tax
    return await _effect(
        Step.VOID_TAX, deal_key, tax.system, lambda: tax.void_tax(document, entity)
    )
