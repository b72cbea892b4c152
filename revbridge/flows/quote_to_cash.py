"""The quote-to-cash workflow, read as the business process it runs.

closed-won deal → validate and enrich → wait for the account's earlier deals → ERP
customers, parents first → tax → sales order in the entity's subsidiary → billing
customer, subscription, invoice items → wait for the ERP to accept → write the status and
ids back to the CRM → ``order.accepted`` → hand the account's turn to its next deal.

Any failure opens one case for the deal and the workflow waits, durably, for its owner's
action: ``retry`` the failed step, ``resume`` from a fresh read of the CRM, ``compensate``
what was created, or ``cancel``. After a retry or resume the case stays open until the
deal is past the step that failed: failing again adds an occurrence to the same case, so
its age tells how long the deal has really been stuck.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from dbos import DBOS

from revbridge.canonical import Customer, ExternalRef, workflow_id_for
from revbridge.cases.model import GOES_ON, CaseAction, action_named
from revbridge.flows import casework, entitlements, runtime, steps
from revbridge.flows.effects import Effects
from revbridge.flows.outcomes import StepFailure
from revbridge.flows.step_names import Step
from revbridge.observability import tracing
from revbridge.ports import DealStatus, ErpOrderState, OrderPlan, TaxQuote

T = TypeVar("T")
PROCESS = "quote_to_cash"
TURN_RECHECK_S = 5.0


def workflow_id(deal: ExternalRef) -> str:
    return workflow_id_for(PROCESS, deal)


class _Resume(Exception):
    """Start again from a fresh read of the deal."""


class _Stop(Exception):
    """The deal ends here (compensated or cancelled)."""


class _Deal:
    """What one run of the workflow knows: ids, and the effects created so far."""

    def __init__(self, deal: ExternalRef, correlation_id: str) -> None:
        self.ref = deal
        self.key = str(deal)
        self.workflow_id = workflow_id(deal)
        self.correlation_id = correlation_id
        self.plan: OrderPlan | None = None
        self.account: str | None = None  # set once the deal holds its account's turn
        self.created = Effects()
        #: The case an operator retried or resumed, the step that failed, and the action:
        #: the case is resolved once the deal gets past that step.
        self.acted: tuple[str, str, CaseAction] | None = None

    def status(self, text: str) -> DealStatus:
        c = self.created
        return DealStatus(
            status=text,
            correlation_id=self.correlation_id,
            erp_order=c.erp_order,
            billing_customer=c.billing_customer,
            billing_subscription=c.subscription,
            erp_customer=c.erp_customer,
        )


@DBOS.workflow(name=PROCESS)
@tracing.flow_span(PROCESS)
async def quote_to_cash(deal_ref: str, correlation_id: str) -> str:
    """Book one closed-won deal end to end; returns how it ended."""
    deal = _Deal(ExternalRef.parse(deal_ref), correlation_id)
    await steps.register_deal(deal.key, deal.workflow_id, correlation_id)
    while True:
        try:
            outcome = await _book(deal)
        except _Resume:
            continue
        except _Stop as stop:
            outcome = str(stop)
        if deal.account is not None:
            following = await steps.give_turn(deal.key, deal.account)
            if following is not None:
                await runtime.wake(following)
        return outcome


async def _book(deal: _Deal) -> str:
    package = await _needs(deal, Step.FETCH_DEAL, lambda: steps.fetch_deal(deal.key, deal.ref))
    plan = await _needs(deal, Step.VALIDATE, lambda: steps.validate(deal.key, package))
    deal.plan = plan
    await _wait_for_turn(deal, plan.order.customer.customer_id)
    parent: ExternalRef | None = None
    for customer in plan.hierarchy:
        parent = await _needs(deal, Step.UPSERT_ERP_CUSTOMER, _upsert(deal, plan, customer, parent))
    assert parent is not None
    deal.created.erp_customer = parent
    tax: TaxQuote = await _needs(deal, Step.QUOTE_TAX, lambda: steps.quote_tax(deal.key, plan))
    deal.created.tax_document = tax.document
    order = await _needs(
        deal,
        Step.SUBMIT_SALES_ORDER,
        lambda: steps.submit_sales_order(deal.key, plan, parent, tax),
    )
    deal.created.erp_order = order
    payer = await _needs(
        deal,
        Step.ENSURE_BILLING_CUSTOMER,
        lambda: steps.ensure_billing_customer(deal.key, plan.order.customer, plan.entity),
    )
    deal.created.billing_customer = payer
    subscription = await _needs(
        deal, Step.START_SUBSCRIPTION, lambda: steps.start_subscription(deal.key, plan, payer, tax)
    )
    if subscription is not None:
        deal.created.subscription = subscription
    deal.created.invoice_items = await _needs(
        deal, Step.ADD_INVOICE_ITEMS, lambda: steps.add_invoice_items(deal.key, plan, payer, tax)
    )
    await _await_acceptance(deal, order)
    await _needs(
        deal,
        Step.WRITE_BACK,
        lambda: steps.write_back(deal.key, deal.ref, deal.status("Activated")),
    )
    await _cleared(deal)
    await casework.finish_deal(deal.key, deal.correlation_id, deal.created.refs(), plan)
    await entitlements.activate(deal.key, deal.correlation_id, plan, "subscription_active")
    return "activated"


async def _wait_for_turn(deal: _Deal, account: str) -> None:
    """Deals of one account are booked one at a time, in close order (see
    ``revbridge.store.turns``); a validated deal waits here for the earlier ones."""
    while not await steps.take_turn(deal.key, account, deal.workflow_id):
        await runtime.wait_for_turn(TURN_RECHECK_S)
    deal.account = account


def _upsert(
    deal: _Deal, plan: OrderPlan, customer: Customer, parent: ExternalRef | None
) -> Callable[[], Awaitable[ExternalRef | StepFailure]]:
    return lambda: steps.upsert_erp_customer(deal.key, customer, parent, plan.entity)


async def _needs(deal: _Deal, step: Step, call: Callable[[], Awaitable[T | StepFailure]]) -> T:
    """Run a step; on failure open the case and act on the owner's decision."""
    while True:
        result = await call()
        if not isinstance(result, StepFailure):
            await _cleared(deal, step)
            return result
        await _handle(deal, result)


async def _cleared(deal: _Deal, step: Step | None = None) -> None:
    """Resolve the case acted on once the deal is past the step that failed (or done)."""
    if deal.acted is not None and step in (None, deal.acted[1]):
        case_id, _, action = deal.acted
        deal.acted = None
        await casework.case_cleared(deal.key, case_id, action, deal.correlation_id)
        await casework.stamp_exception(deal.key, deal.correlation_id)


async def _handle(deal: _Deal, failure: StepFailure) -> None:
    """Open the case, wait for the owner's action, and carry it out (or return to retry)."""
    actions = _safe_actions(deal, failure)
    context = {
        "deal": deal.key,
        "order": deal.plan.order.model_dump(mode="json") if deal.plan else None,
        "bindings": deal.created.bindings(),
    }
    case_id, occurrence = await casework.open_case(
        deal.key, deal.workflow_id, deal.correlation_id, failure, actions, context
    )
    await casework.stamp_exception(deal.key, deal.correlation_id)
    message = await runtime.wait_for_action(case_id, occurrence)
    action = action_named(str(message.get("action")))
    if action is None or action not in actions:
        action = CaseAction.RETRY if CaseAction.RETRY in actions else CaseAction.RESUME
    await casework.case_acted(deal.key, case_id, action, deal.correlation_id)
    if action not in GOES_ON:
        await casework.stamp_exception(deal.key, deal.correlation_id)
    deal.acted = (case_id, failure.step, action) if action in GOES_ON else None
    if action is CaseAction.RESUME:
        raise _Resume
    if action is CaseAction.COMPENSATE:
        await _compensate(deal)
        raise _Stop("compensated")
    if action is CaseAction.CANCEL:
        await steps.write_back(deal.key, deal.ref, deal.status("Cancelled"))
        raise _Stop("cancelled")


def _safe_actions(deal: _Deal, failure: StepFailure) -> list[CaseAction]:
    """A deal that could not be read or validated can only be resumed; once something was
    booked it can be compensated; it can always be cancelled."""
    unread = failure.step in (Step.FETCH_DEAL, Step.VALIDATE)
    actions = [CaseAction.RESUME] if unread else [CaseAction.RETRY, CaseAction.RESUME]
    if deal.created.compensable:
        actions.append(CaseAction.COMPENSATE)
    actions.append(CaseAction.CANCEL)
    return actions


async def _compensate(deal: _Deal) -> None:
    """Undo in reverse order what can be undone; customers stay (they are reusable)."""
    subscription, order, document = (
        deal.created.subscription,
        deal.created.erp_order,
        deal.created.tax_document,
    )
    if subscription is not None:
        await _needs(
            deal,
            Step.CANCEL_SUBSCRIPTION,
            lambda: steps.cancel_subscription(deal.key, subscription),
        )
    if order is not None:
        await _needs(deal, Step.CLOSE_SALES_ORDER, lambda: steps.close_sales_order(deal.key, order))
    if document is not None and deal.plan is not None:
        entity = deal.plan.entity
        await _needs(deal, Step.VOID_TAX, lambda: steps.void_tax(deal.key, document, entity))
    await _needs(
        deal,
        Step.WRITE_BACK,
        lambda: steps.write_back(deal.key, deal.ref, deal.status("Compensated")),
    )


async def _await_acceptance(deal: _Deal, order: ExternalRef) -> None:
    """Poll the ERP until it accepts the order; a timeout or a rejection opens a case."""
    svc = runtime.services()
    while True:
        deadline = await steps.now() + svc.policy.sla.erp_acceptance_timeout_s
        while True:
            state = await steps.check_order_state(deal.key, order)
            if state in (ErpOrderState.ACCEPTED, ErpOrderState.BILLED):
                await casework.mark_accepted(deal.key)
                await _cleared(deal, Step.CHECK_ORDER_STATE)
                return
            if isinstance(state, StepFailure) and not state.retryable:
                await _handle(deal, state)
                break
            if state in (ErpOrderState.REJECTED, ErpOrderState.CLOSED):
                await _handle(
                    deal,
                    StepFailure(
                        step=Step.CHECK_ORDER_STATE,
                        failure_class="erp.rejected",
                        message=f"the ERP {state.value} sales order {order.id}",
                    ),
                )
                break
            if await steps.now() > deadline:
                await _handle(
                    deal,
                    StepFailure(
                        step=Step.CHECK_ORDER_STATE,
                        failure_class="erp.acceptance_timeout",
                        message=f"sales order {order.id} not accepted within "
                        f"{svc.policy.sla.erp_acceptance_timeout_s} s",
                    ),
                )
                break
            await runtime.sleep(svc.erp_poll_s)
