"""Which run a billing event starts, and how a case stamps the CRM record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from revbridge.canonical import ExternalRef
from revbridge.cases.model import CaseAction, CaseState, ExceptionCase, Owner
from revbridge.flows.casework import stamp_text
from revbridge.flows.receivables import phase_of, workflow_id
from revbridge.ingress.billing import run_of
from revbridge.ports import BillingEvent


def _event(kind: str, obj: dict[str, Any], created: int | None = 1_767_139_200) -> BillingEvent:
    payload: dict[str, Any] = {"id": "evt_1", "type": kind, "data": {"object": obj}}
    if created is not None:
        payload["created"] = created
    return BillingEvent(source="stripe", event_id="evt_1", event_type=kind, payload=payload)


@pytest.mark.parametrize(
    ("kind", "attempts", "phase"),
    [
        ("invoice.finalized", 0, "posted"),
        ("invoice.paid", 1, "paid"),
        ("invoice.payment_failed", 2, "failed-2"),
        ("invoice.updated", 0, None),
    ],
)
def test_each_invoice_event_starts_its_phase(kind: str, attempts: int, phase: str | None) -> None:
    assert phase_of(kind, attempts) == phase
    obj = {"id": "in_1", "object": "invoice", "attempt_count": attempts}
    run = run_of(_event(kind, obj), "stripe")
    assert run == (
        None if phase is None else (ExternalRef.parse("stripe:in_1"), phase, 1_767_139_200.0)
    )


def test_an_event_about_something_else_starts_nothing() -> None:
    assert run_of(_event("invoice.paid", {"id": "cus_1", "object": "customer"}), "stripe") is None
    assert run_of(_event("invoice.paid", {"object": "invoice"}), "stripe") is None


def test_a_phase_runs_once_per_invoice() -> None:
    invoice = ExternalRef.parse("stripe:in_1")
    assert workflow_id(invoice, "paid") == "receivables:stripe:in_1:paid"
    assert workflow_id(invoice, "failed-1") != workflow_id(invoice, "failed-2")


def _case(message: str, owner: Owner = Owner.FINANCE_OPS) -> ExceptionCase:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    return ExceptionCase(
        case_id="case_1",
        deal_key="stripe:in_1",
        workflow_id="wf",
        state=CaseState.OPEN,
        owner=owner,
        failure_class="payments.failed",
        rule="collect_payment",
        message=message,
        guidance="",
        context={},
        actions=(CaseAction.RETRY,),
        occurrences=1,
        assignee=None,
        correlation_id="corr-1",
        created_at=now,
        updated_at=now,
        resolved_at=None,
        resolution=None,
    )


def test_a_stamp_names_the_first_finding_and_the_owner() -> None:
    text = stamp_text(_case("payment declined: insufficient_funds (attempt 1); more"))
    assert (
        text
        == "Exception \N{EM DASH} payment declined: insufficient_funds (attempt 1) (finance_ops)"
    )


def test_a_long_reason_is_cut_to_fit_the_field() -> None:
    text = stamp_text(_case("x" * 400, Owner.INTEGRATION_SUPPORT))
    assert len(text) <= 255
    assert text.endswith("\N{HORIZONTAL ELLIPSIS} (integration_support)")


def test_a_part_of_an_invoice_paid_starts_a_run_of_its_own() -> None:
    obj = {"id": "inpay_1", "object": "invoice_payment", "invoice": "in_1"}
    assert phase_of("invoice_payment.paid", 0, "inpay_1") == "paid-inpay_1"
    assert run_of(_event("invoice_payment.paid", obj), "stripe") == (
        ExternalRef.parse("stripe:in_1"),
        "paid-inpay_1",
        1_767_139_200.0,
    )
    assert run_of(_event("invoice_payment.paid", {"object": "invoice_payment"}), "stripe") is None
