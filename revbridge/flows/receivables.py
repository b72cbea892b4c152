"""After the order: an invoice billing posted, the payments that settle it, the ones that fail.

One run per billing invoice and phase (``posted``, ``paid``, ``failed-<attempt>``), started
by billing's event, pushed or pulled; a second trigger of the same phase attaches to the
first run. Every run reads the invoice afresh from billing, so events that arrive twice,
late or out of order all lead to the invoice as it is now:

invoice read → the deal it bills (waits until that deal is activated) → the invoice's turn
→ compared with the booked order → tax recorded (and committed) for the invoice → the ERP
invoice from the sales order → ``invoice.posted`` → each payment collected applied to the
ERP invoice → ``payment.received`` → the CRM shows the invoice and its status → a payment
failure opens one finance case (``payment.failed``), which the payment that follows
resolves by itself.

A step that fails opens one case for the invoice (owned per the policy), and the run waits
for the owner's ``retry``, ``resume`` (read the invoice again) or ``cancel``. The deal's
CRM record is stamped while any case of the deal or its invoices is open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from dbos import DBOS

from revbridge.canonical import ExternalRef, InvoiceStatus, Money, Payment, PaymentStatus
from revbridge.cases.model import CaseAction, action_named
from revbridge.flows import casework, entitlements, runtime
from revbridge.flows import receivable_steps as steps
from revbridge.flows.outcomes import StepFailure
from revbridge.flows.receivable_steps import Booking
from revbridge.flows.step_names import Step
from revbridge.observability import tracing
from revbridge.ports import (
    BilledInvoice,
    ErpInvoice,
    ErpPayment,
    InvoiceView,
    OrderPlan,
    PostedErpInvoice,
)
from revbridge.rules import invoicing

T = TypeVar("T")
PROCESS = "receivables"
#: How often a run waiting for its deal to be activated looks again, in seconds.
DEAL_RECHECK_S = 5.0
#: Billing events that start a run, and the phase each starts.
POSTED, PAID, FAILED = "posted", "paid", "failed"


def workflow_id(invoice: ExternalRef, phase: str) -> str:
    return f"{PROCESS}:{invoice}:{phase}"


def phase_of(event_type: str, attempts: int, payment: str | None = None) -> str | None:
    """The phase a billing event starts (None: the event starts nothing): a part of an
    invoice paid (``invoice_payment.paid``) is a phase of its own, per payment."""
    if event_type == "invoice.finalized":
        return POSTED
    if event_type == "invoice.paid":
        return PAID
    if event_type == "invoice.payment_failed":
        return f"{FAILED}-{attempts}"
    if event_type == "invoice_payment.paid" and payment:
        return f"{PAID}-{payment}"
    return None


class _Resume(Exception):
    """Read the invoice again and start over."""


class _Stop(Exception):
    """The run ends here (its case was cancelled)."""


class _Run:
    def __init__(self, invoice: ExternalRef, phase: str) -> None:
        self.invoice = invoice
        self.key = str(invoice)
        self.phase = phase
        self.workflow_id = workflow_id(invoice, phase)
        self.booking: Booking | None = None
        self.acted: tuple[str, str] | None = None  # (case id, failed step) retried

    @property
    def correlation_id(self) -> str:
        return self.booking.correlation_id if self.booking else f"invoice-{self.invoice.id}"

    @property
    def deal_key(self) -> str:
        return self.booking.deal_key if self.booking else self.key


@DBOS.workflow(name=PROCESS)
@tracing.flow_span(PROCESS)
async def settle_invoice(invoice_ref: str, phase: str, at: float) -> str:
    """Carry one billing invoice to the ERP, tax and CRM; returns how the run ended."""
    run = _Run(ExternalRef.parse(invoice_ref), phase)
    while True:
        try:
            return await _settle(run, at)
        except _Resume:
            continue
        except _Stop as stop:
            return str(stop)


async def _settle(run: _Run, at: float) -> str:
    billed = await _needs(run, Step.READ_INVOICE, lambda: steps.read_invoice(run.invoice))
    booking = await _deal_of(run, billed)
    if booking is None:
        return "not revbridge's"
    if billed.status is InvoiceStatus.DRAFT:
        return "draft"
    waited = False
    while not await steps.take_invoice_turn(run.key, run.workflow_id, at):
        waited = True
        await runtime.wait_for_turn(DEAL_RECHECK_S)
    try:
        if waited:  # read what the runs before it left
            billed = await _needs(run, Step.READ_INVOICE, lambda: steps.read_invoice(run.invoice))
        outcome = await _carry(run, booking, billed)
    finally:
        following = await steps.give_invoice_turn(run.key, run.workflow_id)
        if following is not None:
            await runtime.wake(following)
    if outcome == "payment failed":
        await _payment_failed(run, booking, billed)
    return outcome


async def _deal_of(run: _Run, billed: BilledInvoice) -> Booking | None:
    """The deal the invoice bills, once activated (its order accepted and recorded)."""
    while True:
        booking = await steps.find_booking(billed.correlation_id)
        if booking is None:
            return None
        run.booking = booking
        if booking.ended:
            await _handle(
                run,
                StepFailure(
                    step=Step.CHECK_INVOICE,
                    failure_class="billing.deal_ended",
                    message=f"billing posted invoice {billed.ref.id} for deal "
                    f"{booking.deal_key}, which was {booking.status}",
                ),
            )
            continue
        if booking.activated and booking.plan is not None and booking.erp_order is not None:
            return booking
        await runtime.wait_for_turn(DEAL_RECHECK_S)


async def _carry(run: _Run, booking: Booking, billed: BilledInvoice) -> str:
    plan = booking.plan
    order = booking.erp_order
    assert plan is not None
    assert order is not None
    deal = booking.deal_key
    if not billed.total.amount:  # nothing is owed (a free first period): nothing to post
        await steps.keep_invoice(booking, steps.canonical_invoice(plan, billed, None), None)
        return "nothing to post"
    done = await steps.carried(run.key, order.system)
    posted = done.posted
    if posted is None:
        await _needs(run, Step.CHECK_INVOICE, lambda: steps.check_invoice(deal, plan, billed))
        tax = await _needs(run, Step.INVOICE_TAX, lambda: steps.invoice_tax(deal, plan, billed))
        document = invoicing.erp_invoice(plan, billed, tax)
        posted = await _needs(
            run, Step.POST_ERP_INVOICE, lambda: _post_checked(deal, order, document, billed)
        )
    record = steps.canonical_invoice(plan, billed, posted)
    if done.status is None:  # posted first; what was paid is kept as payments are applied
        unpaid = {"status": InvoiceStatus.POSTED, "amount_paid": Money.zero(billed.currency)}
        await steps.keep_invoice(booking, record.model_copy(update=unpaid), None)
    applied = await _apply_payments(run, booking, plan, billed, posted, done.payments)
    if record.status is not InvoiceStatus.POSTED and record.status != done.status:
        await steps.keep_invoice(booking, record, billed.paid_at)
    changed = record.status != done.status or len(applied) > len(done.payments)
    if changed or billed.failure is not None:
        view = _view(billed, posted, applied[-1] if applied else None)
        await _needs(run, Step.SHOW_INVOICE, lambda: steps.show_invoice(booking, view))
    if billed.status is InvoiceStatus.PAID:
        await entitlements.activate(
            booking.deal_key, booking.correlation_id, plan, "first_invoice_paid"
        )
        await _settled(run, booking)
        return "paid"
    if billed.failure is not None and run.phase.startswith(FAILED):
        return "payment failed"
    return str(billed.status)


async def _post_checked(
    deal: str, order: ExternalRef, document: ErpInvoice, billed: BilledInvoice
) -> PostedErpInvoice | StepFailure:
    """The ERP invoice (posted, or found with what it holds now) if it holds billing's
    total and tax; a retry reads it again."""
    posted = await steps.post_erp_invoice(deal, order, document)
    if isinstance(posted, StepFailure):
        return posted
    mismatch = await steps.check_posted(deal, billed, posted)
    return posted if mismatch is None else mismatch


async def _apply_payments(
    run: _Run,
    booking: Booking,
    plan: OrderPlan,
    billed: BilledInvoice,
    posted: PostedErpInvoice,
    done: dict[str, ExternalRef],
) -> list[ExternalRef]:
    """Each payment collected, applied once to the ERP invoice (``done``: by an earlier
    run); their ERP payments, in order."""
    applied = []
    for paid in billed.payments:
        if str(paid.ref) in done:
            applied.append(done[str(paid.ref)])
            continue
        if str(paid.amount.currency) != billed.currency:
            await _handle(
                run,
                StepFailure(
                    step=Step.RECORD_PAYMENT,
                    failure_class="payments.currency",
                    message=f"payment {paid.ref.id} is in {paid.amount.currency}, "
                    f"invoice {billed.ref.id} in {billed.currency}",
                ),
            )
            continue
        payment = ErpPayment(
            external_id=paid.ref.id,
            amount=paid.amount,
            received_on=paid.received_at.date(),
            memo=f"billing payment {paid.ref.id} for invoice {billed.number or billed.ref.id}",
        )
        erp = await _needs(run, Step.RECORD_PAYMENT, _recorder(booking, posted, payment))
        record = steps.canonical_payment(plan, billed, paid, erp)
        await steps.keep_payment(booking, str(billed.ref), record, posted.ref)
        applied.append(erp)
    return applied


def _recorder(
    booking: Booking, posted: PostedErpInvoice, payment: ErpPayment
) -> Callable[[], Awaitable[ExternalRef | StepFailure]]:
    return lambda: steps.record_payment(booking.deal_key, posted.ref, payment)


def _view(
    billed: BilledInvoice, posted: PostedErpInvoice, erp_payment: ExternalRef | None
) -> InvoiceView:
    return InvoiceView(
        invoice=billed.ref,
        number=billed.number,
        status=billed.status,
        total=billed.total,
        tax=billed.tax,
        amount_paid=billed.amount_paid,
        amount_remaining=billed.amount_remaining,
        due_date=billed.due_date,
        issued_on=billed.issued_at.date() if billed.issued_at else None,
        paid_on=billed.paid_at.date() if billed.paid_at else None,
        failure=billed.failure,
        erp_invoice=posted.ref,
        erp_payment=erp_payment,
    )


async def _payment_failed(run: _Run, booking: Booking, billed: BilledInvoice) -> None:
    """Billing could not collect: ``payment.failed``, one finance case for the invoice, and
    the run waits on it (a later payment resolves it, see :func:`_settled`)."""
    attempt = Payment(
        payment_id=f"{billed.ref.id}-attempt-{billed.attempts}",
        invoice_id=billed.ref.id,
        customer_id=booking.plan.order.customer.customer_id if booking.plan else "unknown",
        amount=billed.amount_remaining
        if billed.amount_remaining.amount
        else Money.zero(billed.currency),
        status=PaymentStatus.FAILED,
        external_refs=(billed.ref,),
    )
    await steps.collect_payment(booking, billed, attempt)
    failure = StepFailure(
        step=Step.COLLECT_PAYMENT,
        failure_class="payments.failed",
        message=f"{billed.failure} on invoice {billed.number or billed.ref.id} "
        f"({billed.amount_remaining} due)",
    )
    await _handle(run, failure, actions=[CaseAction.RETRY, CaseAction.CANCEL], settles=True)


async def _settled(run: _Run, booking: Booking) -> None:
    """The invoice is paid: a payment-failure case still open for it is resolved."""
    waiting = await casework.settle_case(run.key, "payments.failed", booking.correlation_id)
    if waiting is not None:
        await casework.stamp_exception(booking.deal_key, booking.correlation_id)
        await runtime.nudge(*waiting)


async def _needs(run: _Run, step: Step, call: Callable[[], Awaitable[T | StepFailure]]) -> T:
    """Run a step; on failure open the invoice's case and act on the owner's decision."""
    while True:
        result = await call()
        if not isinstance(result, StepFailure):
            await _cleared(run, step)
            return result
        await _handle(run, result)


async def _cleared(run: _Run, step: Step) -> None:
    if run.acted is not None and run.acted[1] == step:
        case_id = run.acted[0]
        run.acted = None
        await casework.case_cleared(run.deal_key, case_id, CaseAction.RETRY, run.correlation_id)
        await casework.stamp_exception(run.deal_key, run.correlation_id)


async def _handle(
    run: _Run,
    failure: StepFailure,
    actions: list[CaseAction] | None = None,
    settles: bool = False,
) -> None:
    """Open the invoice's case and wait for its owner. With ``settles``, a retry that finds
    the invoice paid (or the payment that resolves the case) ends the run."""
    actions = actions or [CaseAction.RETRY, CaseAction.RESUME, CaseAction.CANCEL]
    context = {"deal": run.deal_key, "invoice": run.key, "phase": run.phase}
    case_id, occurrence = await casework.open_case(
        run.key, run.workflow_id, run.correlation_id, failure, actions, context
    )
    if run.booking is not None:
        await casework.stamp_exception(run.deal_key, run.correlation_id)
    while True:
        message = await runtime.wait_for_action(case_id, occurrence)
        if message.get("settled"):
            raise _Stop("paid")
        action = action_named(str(message.get("action"))) or CaseAction.RETRY
        if action not in actions:
            action = CaseAction.RETRY
        await casework.case_acted(run.key, case_id, action, run.correlation_id)
        if action is CaseAction.CANCEL:
            if run.booking is not None:
                await casework.stamp_exception(run.deal_key, run.correlation_id)
            raise _Stop("cancelled")
        if settles:  # read the invoice again: paid resolves the case, failing updates it
            raise _Resume
        if action is CaseAction.RESUME:
            run.acted = (case_id, str(Step.READ_INVOICE))
            raise _Resume
        run.acted = (case_id, failure.step)
        return
