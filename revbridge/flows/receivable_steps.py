"""The checkpointed steps of the receivables flow: one external effect or one store write.

Like quote-to-cash's steps (:mod:`revbridge.flows.steps`), each records its outcome on
the deal's timeline and returns its value or a :class:`StepFailure`; every effect is
idempotent by the target's own means (AvaTax document code, NetSuite external id,
Salesforce external id), so a step that runs again after a crash finds what it made.
Events raised here have ids derived from the invoice or payment, not from the workflow,
so the several runs one invoice may get (posted, paid, failed) record each event once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dbos import DBOS

from revbridge.canonical import (
    BusinessEvent,
    EventType,
    ExternalRef,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
)
from revbridge.flows.outcomes import StepFailure, failure_from_error
from revbridge.flows.runtime import services
from revbridge.flows.step_names import Step
from revbridge.flows.steps import _effect, _store
from revbridge.ports import (
    BilledInvoice,
    BilledPayment,
    ErpInvoice,
    ErpPayment,
    InvoiceView,
    OrderPlan,
    PostedErpInvoice,
    TaxQuote,
)
from revbridge.rules import invoicing
from revbridge.store import audit, deals, packages, receivables, turns
from revbridge.store.deals import Status
from revbridge.stream import sql_log

EVENT_NAMESPACE = uuid.UUID("0c5e3a57-51b1-4f0e-a7b6-3c7f5a0d2e19")


@dataclass(frozen=True)
class Booking:
    """The deal an invoice bills, as revbridge booked it."""

    deal_key: str
    correlation_id: str
    status: str
    activated: bool
    plan: OrderPlan | None
    erp_order: ExternalRef | None
    legal_entity: str | None

    @property
    def deal(self) -> ExternalRef:
        return ExternalRef.parse(self.deal_key)

    @property
    def in_crm(self) -> bool:
        """Whether the deal came from the CRM (a submitted order package has no record)."""
        return self.deal.system != packages.SOURCE

    @property
    def ended(self) -> bool:
        return self.status in (Status.COMPENSATED, Status.CANCELLED)


def _event(kind: EventType, origin: str, subject: str, correlation: str, data: Any) -> Any:
    event = BusinessEvent.create(
        type=kind,
        data=data,
        source=services().source,
        correlationid=correlation,
        subject=subject,
    ).model_copy(update={"id": str(uuid.uuid5(EVENT_NAMESPACE, f"{origin}:{kind.value}"))})
    return event.model_dump(mode="json", exclude_none=True)


def _announce(
    conn: Any,
    booking: Booking,
    kind: EventType,
    origin: str,
    data: Any,
    subject: str,
    after: dict[str, Any],
) -> bool:
    """Append the event (its id derived from ``origin``) and, the first time, audit it
    (``kind`` names the audit action); True when it was new."""
    event = _event(kind, origin, booking.deal_key, booking.correlation_id, data)
    if sql_log.append(conn, event) is None:
        return False
    audit.append(
        conn,
        actor="revbridge",
        action=kind.value,
        subject=subject,
        after=after,
        correlation_id=booking.correlation_id,
    )
    return True


@DBOS.step()
async def read_invoice(invoice: ExternalRef) -> BilledInvoice | StepFailure:
    billing = services().billing
    try:
        return await billing.read_invoice(invoice)
    except Exception as exc:  # a failure becomes a case, never a crashed flow
        return failure_from_error(Step.READ_INVOICE, exc)


@DBOS.step()
async def find_booking(correlation_id: str | None) -> Booking | None:
    """The deal revbridge booked under ``correlation_id`` (None: not one of revbridge's)."""
    if correlation_id is None:
        return None

    def work(conn: Any) -> Booking | None:
        deal = deals.by_correlation(conn, correlation_id)
        if deal is None:
            return None
        plan = OrderPlan.model_validate(deal.plan) if deal.plan else None
        order = deal.refs.get("erp_order")
        erp = services().erp.system
        return Booking(
            deal_key=deal.deal_key,
            correlation_id=deal.correlation_id,
            status=str(deal.status),
            activated=deal.activated_at is not None,
            plan=plan,
            erp_order=ExternalRef(system=erp, id=str(order)) if order else None,
            legal_entity=deal.refs.get("legal_entity"),
        )

    return await _store(work)


@DBOS.step()
async def take_invoice_turn(invoice_key: str, workflow_id: str, at: float) -> bool:
    """One run per invoice at a time, in the order billing reported its events."""
    closed = datetime.fromtimestamp(at, UTC)
    return await _store(
        lambda conn: turns.take(conn, f"invoice:{invoice_key}", workflow_id, workflow_id, closed)
    )


@DBOS.step()
async def give_invoice_turn(invoice_key: str, workflow_id: str) -> str | None:
    return await _store(lambda conn: turns.give_back(conn, f"invoice:{invoice_key}", workflow_id))


@DBOS.step()
async def check_invoice(
    deal_key: str, plan: OrderPlan, invoice: BilledInvoice
) -> StepFailure | None:
    """Compare the invoice with the booked order (:mod:`revbridge.rules.invoicing`)."""
    started = datetime.now(UTC)
    findings = invoicing.invoice_findings(plan, invoice)
    outcome = "failed" if findings else "ok"
    detail = {"invoice": invoice.ref.id, "findings": findings}
    await _store(
        lambda conn: deals.record_step(
            conn, deal_key, Step.CHECK_INVOICE, outcome, started, detail=detail
        )
    )
    if not findings:
        return None
    return StepFailure(
        step=Step.CHECK_INVOICE,
        failure_class="billing.invoice_mismatch",
        message="; ".join(findings),
        findings=[{"rule": "invoice_matches_order", "message": f} for f in findings],
    )


@DBOS.step()
async def invoice_tax(
    deal_key: str, plan: OrderPlan, invoice: BilledInvoice
) -> TaxQuote | StepFailure:
    tax = services().tax

    async def call() -> TaxQuote:
        quote = await tax.invoice_tax(plan, invoice)
        if findings := invoicing.tax_findings(invoice, quote):
            raise _Mismatch("; ".join(findings))
        return quote

    def detail(conn: Any, quote: TaxQuote) -> dict[str, Any]:
        return {"document": quote.document.id, "total_tax": str(quote.total_tax.amount)}

    result = await _effect(Step.INVOICE_TAX, deal_key, tax.system, call, detail)
    if isinstance(result, StepFailure) and result.code == _Mismatch.code:
        return result.model_copy(update={"failure_class": "tax.mismatch"})
    return result


class _Mismatch(Exception):
    code = "TAX_MISMATCH"


@DBOS.step()
async def post_erp_invoice(
    deal_key: str, order: ExternalRef, invoice: ErpInvoice
) -> PostedErpInvoice | StepFailure:
    erp = services().erp

    def detail(conn: Any, posted: PostedErpInvoice) -> dict[str, Any]:
        return {
            "erp_invoice": posted.ref.id,
            "number": posted.number,
            "total": str(posted.total.amount),
            "billing_invoice": invoice.external_id,
        }

    return await _effect(
        Step.POST_ERP_INVOICE,
        deal_key,
        erp.system,
        lambda: erp.post_invoice(order, invoice),
        detail,
    )


@dataclass(frozen=True)
class Carried:
    """What earlier runs of an invoice already carried (so a later run redoes nothing)."""

    posted: PostedErpInvoice | None  # the ERP invoice, once posted and checked
    status: InvoiceStatus | None  # the invoice's status as last stored
    payments: dict[str, ExternalRef]  # billing payment (``system:id``) → its ERP payment


@DBOS.step()
async def carried(invoice_key: str, erp_system: str) -> Carried:
    def work(conn: Any) -> Carried:
        stored = receivables.invoice(conn, invoice_key)
        if stored is None:
            return Carried(posted=None, status=None, payments={})
        record = stored.invoice
        erp = record.ref_for(erp_system)
        posted = None
        if erp is not None:
            posted = PostedErpInvoice(ref=erp, number=None, total=record.total, tax=record.tax)
        applied = {
            p.key: ref
            for p in receivables.payments_of_invoice(conn, invoice_key)
            if (ref := p.payment.ref_for(erp_system)) is not None
        }
        return Carried(posted=posted, status=record.status, payments=applied)

    return await _store(work)


@DBOS.step()
async def check_posted(
    deal_key: str, invoice: BilledInvoice, posted: PostedErpInvoice
) -> StepFailure | None:
    """The ERP invoice holds billing's total and tax (:mod:`revbridge.rules.invoicing`)."""
    findings = invoicing.posted_findings(invoice, posted)
    if not findings:
        return None
    started = datetime.now(UTC)
    detail = {"invoice": invoice.ref.id, "findings": findings}
    await _store(
        lambda conn: deals.record_step(
            conn, deal_key, Step.POST_ERP_INVOICE, "failed", started, detail=detail
        )
    )
    return StepFailure(
        step=Step.POST_ERP_INVOICE,
        failure_class="billing.invoice_mismatch",
        message="; ".join(findings),
        findings=[{"rule": "erp_invoice_matches_billing", "message": f} for f in findings],
    )


def canonical_invoice(
    plan: OrderPlan, billed: BilledInvoice, erp: PostedErpInvoice | None
) -> Invoice:
    refs = [billed.ref, *([erp.ref] if erp is not None else [])]
    return Invoice(
        invoice_id=billed.ref.id,
        order_id=plan.order.order_id,
        customer_id=plan.order.customer.customer_id,
        status=billed.status,
        number=billed.number,
        currency=billed.currency,
        subtotal=billed.subtotal,
        tax=billed.tax,
        total=billed.total,
        amount_due=billed.amount_due,
        amount_paid=billed.amount_paid,
        due_date=billed.due_date,
        issued_at=billed.issued_at,
        external_refs=tuple(refs),
    )


@DBOS.step()
async def keep_invoice(booking: Booking, record: Invoice, paid_at: datetime | None) -> None:
    """Store the invoice's canonical record; the first time, for an invoice with something
    owed, ``invoice.posted`` (with the invoice) and the deal's first-invoice time."""
    key = str(record.external_refs[0])

    def work(conn: Any) -> None:
        first = receivables.invoice(conn, key) is None
        receivables.save_invoice(
            conn,
            key,
            booking.deal_key,
            booking.correlation_id,
            booking.legal_entity,
            record,
            paid_at,
        )
        if not first or not record.total.amount:
            return  # announced once; an invoice of nothing owed is kept, not announced
        if record.issued_at is not None:
            deals.mark_invoiced(conn, booking.correlation_id, record.issued_at)
        after = {
            "deal": booking.deal_key,
            "total": str(record.total.amount),
            "currency": str(record.currency),
            "refs": [str(r) for r in record.external_refs],
        }
        _announce(conn, booking, EventType.INVOICE_POSTED, key, record, key, after)

    await _store(work)


@DBOS.step()
async def record_payment(
    deal_key: str, erp_invoice: ExternalRef, payment: ErpPayment
) -> ExternalRef | StepFailure:
    erp = services().erp

    def detail(conn: Any, ref: ExternalRef) -> dict[str, Any]:
        return {
            "erp_payment": ref.id,
            "amount": str(payment.amount.amount),
            "billing_payment": payment.external_id,
        }

    return await _effect(
        Step.RECORD_PAYMENT,
        deal_key,
        erp.system,
        lambda: erp.record_payment(erp_invoice, payment),
        detail,
    )


@DBOS.step()
async def keep_payment(
    booking: Booking, invoice_key: str, record: Payment, erp_invoice: ExternalRef
) -> None:
    """Store the payment once, with ``payment.received`` (carrying it) and its audit."""
    key = str(record.external_refs[0])

    def work(conn: Any) -> None:
        if not receivables.record_payment(conn, key, invoice_key, record):
            return
        after = {
            "invoice": invoice_key,
            "erp_invoice": str(erp_invoice),
            "amount": str(record.amount.amount),
            "currency": str(record.amount.currency),
        }
        _announce(conn, booking, EventType.PAYMENT_RECEIVED, key, record, key, after)

    await _store(work)


def canonical_payment(
    plan: OrderPlan, billed: BilledInvoice, paid: BilledPayment, erp: ExternalRef
) -> Payment:
    return Payment(
        payment_id=paid.ref.id,
        invoice_id=billed.ref.id,
        customer_id=plan.order.customer.customer_id,
        amount=paid.amount,
        status=PaymentStatus.SUCCEEDED,
        received_at=paid.received_at,
        external_refs=(paid.ref, erp),
    )


@DBOS.step()
async def collect_payment(booking: Booking, billed: BilledInvoice, record: Payment) -> None:
    """``payment.failed`` once per collection attempt, with the attempt as a Payment."""
    origin = f"{billed.ref}:attempt:{billed.attempts}"

    def work(conn: Any) -> None:
        after = {"attempt": billed.attempts, "failure": billed.failure}
        subject = str(billed.ref)
        _announce(conn, booking, EventType.PAYMENT_FAILED, origin, record, subject, after)

    await _store(work)


@DBOS.step()
async def show_invoice(booking: Booking, view: InvoiceView) -> StepFailure | None:
    if not booking.in_crm:
        return None  # a submitted order package: its submitter reads the API
    crm = services().crm
    return await _effect(
        Step.SHOW_INVOICE,
        booking.deal_key,
        crm.system,
        lambda: crm.show_invoice(booking.deal, view),
        lambda conn, _: {"invoice": view.invoice.id, "status": str(view.status)},
    )
