"""After the order, end to end: billing posts invoices as its clock advances, customers pay
or fail to, and every invoice and payment reaches the ERP, the tax engine and the CRM once.
Real `revbridge worker` processes against the sandboxes over HTTP. Billing events reach
revbridge by the worker's pull of Stripe's event list, and in one test also as webhooks
Stripe pushes to the API (duplicated, reordered, one never sent)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from acceptance_stack import Stack
from sqlalchemy import select

from revbridge.api.main import create_app
from revbridge.app import remote_settler
from revbridge.config.load import load_policy
from revbridge.config.settings import Settings
from revbridge.connectors.registry import billing_events
from revbridge.store import cases
from revbridge.store.tables import event_log, invoices, payments
from revbridge.testing.estate import SANDBOX_ENV
from revbridge.testing.servers import serve

PULL = ("--billing-poll", "0.3")


def _stripe(stack: Stack, method: str, path: str, **params: Any) -> dict[str, Any]:
    key = SANDBOX_ENV["STRIPE_API_KEY"]
    response = httpx.request(
        method,
        f"{stack.estate.urls['stripe']}{path}",
        headers={"Authorization": f"Bearer {key}"},
        data=params or None,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _advance_to(stack: Stack, when: datetime) -> None:
    response = httpx.post(
        f"{stack.estate.urls['stripe']}/_sandbox/clock/advance",
        json={"to": int(when.timestamp())},
        timeout=60,
    )
    assert response.status_code == 200, response.text


def _billing_invoices(stack: Stack, customer: str) -> list[dict[str, Any]]:
    """The customer's posted invoices with something to pay (the $0 invoice Stripe issues
    when a subscription starts before its billing anchor is not posted to the ERP)."""
    found = _stripe(stack, "GET", f"/v1/invoices?customer={customer}&limit=100")["data"]
    return [i for i in found if i["status"] != "draft" and i["total"] > 0]


def _records(state: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    found = state.get(kind) or state.get("records", {}).get(kind) or {}
    return list(found.values()) if isinstance(found, dict) else list(found)


def _stored(stack: Stack, table: Any) -> list[Any]:
    with stack.engine.connect() as conn:
        return list(conn.execute(select(table)).all())


def _logged(stack: Stack, kind: str) -> list[dict[str, Any]]:
    with stack.engine.connect() as conn:
        rows = conn.execute(
            select(event_log.c.event).where(event_log.c.event_type == f"com.revbridge.{kind}")
        ).all()
    return [dict(row.event) for row in rows]


def _booked(stack: Stack, *worker_args: str) -> tuple[str, Any]:
    opportunity = stack.uk_deal()
    stack.worker(None, *worker_args)
    stack.close(opportunity)
    return opportunity, stack.activated(opportunity)


def _first_invoice(stack: Stack, customer: str) -> dict[str, Any]:
    """The contract starts on 1 January 2027: billing's first period posts on that day."""
    _advance_to(stack, datetime(2027, 1, 1, 3, tzinfo=UTC))
    [first] = stack.wait("the first invoice", lambda: _billing_invoices(stack, customer))
    return first


def _pay(stack: Stack, invoice: dict[str, Any], method: str) -> None:
    key = SANDBOX_ENV["STRIPE_API_KEY"]
    httpx.post(
        f"{stack.estate.urls['stripe']}/v1/invoices/{invoice['id']}/pay",
        headers={"Authorization": f"Bearer {key}"},
        data={"payment_method": method},
        timeout=30,
    )  # a decline answers 402: the invoice stays open


def _stored_status(stack: Stack, invoice_id: str) -> str | None:
    with stack.engine.connect() as conn:
        row = conn.execute(
            select(invoices.c.status).where(invoices.c.invoice_id == invoice_id)
        ).first()
    return None if row is None else str(row.status)


def _apply_lines(payment: dict[str, Any]) -> list[dict[str, Any]]:
    lines = payment["apply"]
    return list(lines["items"] if isinstance(lines, dict) else lines)


def _opportunity(stack: Stack, opportunity: str) -> dict[str, Any]:
    [row] = stack.book.seeder.query(
        "SELECT Integration_Exception__c, Billing_Status__c, Last_Payment_Date__c "
        f"FROM Opportunity WHERE Id = '{opportunity}'"
    )
    return dict(row)


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_an_invoice_and_its_payment_reach_erp_tax_and_crm_once(stack: Stack) -> None:
    opportunity, deal = _booked(stack, *PULL)
    first = _first_invoice(stack, deal.refs["billing_customer"])
    stack.wait("the invoice posted", lambda: _stored_status(stack, first["id"]) == "posted")
    _pay(stack, first, "pm_card_visa")
    stack.wait("the invoice paid", lambda: _stored_status(stack, first["id"]) == "paid")

    netsuite = stack.state("netsuite")
    [erp] = [i for i in _records(netsuite, "invoice") if i["externalId"] == first["id"]]
    assert len(_records(netsuite, "invoice")) == 1
    assert erp["createdFrom"]["id"] == deal.refs["erp_order"]
    assert Decimal(str(erp["subtotal"])) == Decimal(first["total_excluding_tax"]) / 100
    [document] = [
        t for t in _records(stack.state("avalara"), "transactions") if t["code"].startswith("inv:")
    ]
    assert document["status"] == "Committed"
    assert Decimal(str(erp["taxTotal"])) == Decimal(str(document["totalTax"]))
    assert (
        Decimal(str(document["totalTax"]))
        == Decimal(first["total"] - first["total_excluding_tax"]) / 100
    )
    [payment] = _records(netsuite, "customerPayment")
    [applied] = _apply_lines(payment)
    assert applied["doc"]["id"] == erp["id"]
    paid = _stripe(stack, "GET", f"/v1/invoices/{first['id']}")
    assert Decimal(str(erp["total"])) == Decimal(paid["total"]) / 100
    assert Decimal(str(applied["amount"])) == Decimal(paid["amount_paid"]) / 100
    assert Decimal(str(erp["amountRemaining"])) == 0

    [shown] = stack.book.seeder.query(
        "SELECT Name, Status__c, Amount__c, Paid_Date__c, ERP_Invoice_Id__c FROM "
        f"Billing_Invoice__c WHERE Opportunity__c = '{opportunity}'"
    )
    assert (shown["Name"], shown["Status__c"]) == (first["number"], "Paid")
    assert Decimal(str(shown["Amount__c"])) == Decimal(first["total"]) / 100
    assert shown["ERP_Invoice_Id__c"] == erp["id"]
    assert _opportunity(stack, opportunity)["Billing_Status__c"] == "Paid"

    [posted_event] = _logged(stack, "invoice.posted")
    assert posted_event["data"]["invoice_id"] == first["id"]
    assert Decimal(posted_event["data"]["total"]["amount"]) == Decimal(first["total"]) / 100
    [received] = _logged(stack, "payment.received")
    assert received["data"]["invoice_id"] == first["id"]
    assert len(_stored(stack, payments)) == 1


def test_a_failed_payment_opens_one_case_that_the_later_payment_closes(stack: Stack) -> None:
    opportunity, deal = _booked(stack, *PULL)
    first = _first_invoice(stack, deal.refs["billing_customer"])
    stack.wait("the invoice posted", lambda: _stored_status(stack, first["id"]) == "posted")
    _pay(stack, first, "pm_card_chargeDeclinedInsufficientFunds")

    def failure_case() -> Any:
        with stack.engine.connect() as conn:
            return cases.open_for_deal(conn, f"stripe:{first['id']}")

    case = stack.wait("the payment failure case", failure_case)
    assert (case.owner, case.failure_class) == ("finance_ops", "payments.failed")
    stamped = stack.wait(
        "the opportunity stamped",
        lambda: _opportunity(stack, opportunity)["Integration_Exception__c"],
    )
    assert stamped.startswith("Exception \N{EM DASH} payment declined: insufficient_funds")
    assert stamped.endswith("(finance_ops)")
    assert _opportunity(stack, opportunity)["Billing_Status__c"] == "Payment Failed"
    [shown] = stack.book.seeder.query(
        f"SELECT Status__c, Payment_Failure__c FROM Billing_Invoice__c "
        f"WHERE Opportunity__c = '{opportunity}'"
    )
    assert shown["Status__c"] == "Payment Failed"
    assert "insufficient_funds" in shown["Payment_Failure__c"]
    assert len(_logged(stack, "payment.failed")) == 1

    _pay(stack, first, "pm_card_visa")
    stack.wait("the invoice paid", lambda: _stored_status(stack, first["id"]) == "paid")

    def settled() -> bool:
        with stack.engine.connect() as conn:
            resolved = cases.get(conn, case.case_id)
        return resolved is not None and resolved.state.value == "resolved"

    stack.wait("the case resolved without anyone acting", settled)
    stack.wait(
        "the stamp cleared",
        lambda: _opportunity(stack, opportunity)["Integration_Exception__c"] is None,
    )
    assert len(_records(stack.state("netsuite"), "customerPayment")) == 1
    with stack.engine.connect() as conn:
        assert [c.case_id for c in cases.for_deal(conn, f"stripe:{first['id']}")] == [case.case_id]


def test_lost_answers_duplicate_and_lost_webhooks_leave_one_erp_invoice_and_payment(
    stack: Stack,
) -> None:
    """Stripe pushes its events (each delivered up to twice, some out of order) to the API,
    but never ``invoice.paid``; NetSuite commits the invoice and the payment and drops
    both answers. One ERP invoice and one payment come out: the paid event is found by a
    later worker's pull."""
    opportunity, deal = _booked(stack, "--billing-poll", "0")
    endpoint = _stripe(
        stack,
        "POST",
        "/v1/webhook_endpoints",
        url="http://127.0.0.1:1/placeholder",
        **{"enabled_events[0]": "invoice.finalized", "enabled_events[1]": "invoice.created"},
    )
    env = {"STRIPE_WEBHOOK_SECRET": endpoint["secret"]}
    policy = load_policy(stack.policy)
    app = create_app(
        Settings(database_url=stack.database_url),  # type: ignore[arg-type]
        stack.engine,
        policy,
        billing_events=billing_events(policy, env),
        settle=remote_settler(stack.database_url),
    )
    drop = {"commit_then_drop_rate": 1.0, "max_count": 1}
    stack.faults(
        "netsuite",
        [
            {"method": "POST", "path": "*/!transform/invoice", **drop},
            {"method": "PUT", "path": "*/customerPayment/eid:*", **drop},
        ],
    )
    _faults_on_webhooks(stack, duplicate_rate=1.0, reorder_rate=0.5)
    with serve(app) as base:
        _stripe(
            stack,
            "POST",
            f"/v1/webhook_endpoints/{endpoint['id']}",
            url=f"{base}/v1/webhooks/stripe",
        )
        first = _first_invoice(stack, deal.refs["billing_customer"])
        stack.wait("the invoice posted", lambda: _stored_status(stack, first["id"]) == "posted")
        _pay(stack, first, "pm_card_visa")
        stack.worker(None, *PULL)  # the paid event was never pushed: the pull finds it
        stack.wait("the invoice paid", lambda: _stored_status(stack, first["id"]) == "paid")

    netsuite = stack.state("netsuite")
    assert [i["externalId"] for i in _records(netsuite, "invoice")] == [first["id"]]
    assert len(_records(netsuite, "customerPayment")) == 1
    assert netsuite["_faults"].get("commit_then_drop") == 2
    pushed = httpx.post(f"{stack.estate.urls['stripe']}/_sandbox/webhooks/drain", timeout=30).json()
    assert pushed["delivered"] >= 2
    assert pushed["duplicated"] >= 1
    assert len(_logged(stack, "invoice.posted")) == 1
    assert len(_logged(stack, "payment.received")) == 1
    del opportunity


def _faults_on_webhooks(stack: Stack, **webhooks: float) -> None:
    response = httpx.put(
        f"{stack.estate.urls['stripe']}/_sandbox/faults", json={"rules": [], "webhooks": webhooks}
    )
    assert response.status_code == 200, response.text


def test_an_invoice_paid_in_two_parts_gets_two_erp_payments_as_they_come(stack: Stack) -> None:
    opportunity, deal = _booked(stack, *PULL)
    customer = deal.refs["billing_customer"]
    first = _first_invoice(stack, customer)
    stack.wait("the invoice posted", lambda: _stored_status(stack, first["id"]) == "posted")
    part = first["amount_due"] // 3

    def pay_part(amount: int) -> None:
        intent = _stripe(
            stack,
            "POST",
            "/v1/payment_intents",
            amount=str(amount),
            currency=first["currency"],
            customer=customer,
            payment_method="pm_card_visa",
            confirm="true",
        )
        _stripe(
            stack, "POST", f"/v1/invoices/{first['id']}/attach_payment", payment_intent=intent["id"]
        )

    pay_part(part)
    stack.wait(
        "the first part applied", lambda: _stored_status(stack, first["id"]) == "partially_paid"
    )
    [shown] = stack.book.seeder.query(
        f"SELECT Status__c FROM Billing_Invoice__c WHERE Opportunity__c = '{opportunity}'"
    )
    assert shown["Status__c"] == "Partially Paid"
    pay_part(first["amount_due"] - part)
    stack.wait("the invoice paid", lambda: _stored_status(stack, first["id"]) == "paid")

    netsuite = stack.state("netsuite")
    [erp] = _records(netsuite, "invoice")
    applied = sorted(
        Decimal(str(line["amount"]))
        for payment in _records(netsuite, "customerPayment")
        for line in _apply_lines(payment)
    )
    assert applied == sorted([Decimal(part) / 100, Decimal(first["amount_due"] - part) / 100])
    assert Decimal(str(erp["amountRemaining"])) == 0
    assert len(_logged(stack, "payment.received")) == 2
