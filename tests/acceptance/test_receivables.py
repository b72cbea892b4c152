"""After the order, end to end: billing posts invoices as its clock advances, customers pay
or fail to, and every invoice and payment reaches the ERP, the tax engine and the CRM once.
Real `revbridge worker` processes against the sandboxes over HTTP; no webhook is pushed
here, so every billing event is found by the worker's pull of Stripe's event list."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from acceptance_stack import Stack
from sqlalchemy import select

from revbridge.store import cases
from revbridge.store.tables import event_log, invoices, payments
from revbridge.testing.estate import SANDBOX_ENV

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


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_two_billing_periods_reach_erp_tax_and_crm_once(stack: Stack) -> None:
    opportunity = stack.uk_deal()
    stack.worker(None, *PULL)
    stack.close(opportunity)
    deal = stack.activated(opportunity)
    customer = deal.refs["billing_customer"]

    # the contract starts on 1 January 2027: billing's first period, then the second month
    _advance_to(stack, datetime(2027, 1, 1, 3, tzinfo=UTC))
    [first] = stack.wait("the first invoice", lambda: _billing_invoices(stack, customer))
    _stripe(stack, "POST", f"/v1/invoices/{first['id']}/pay", payment_method="pm_card_visa")
    _advance_to(stack, datetime(2027, 2, 1, 3, tzinfo=UTC))
    posted = stack.wait(
        "two invoices posted", lambda: len(_billing_invoices(stack, customer)) == 2 or None
    )
    assert posted
    billed = {i["id"]: i for i in _billing_invoices(stack, customer)}

    def all_recorded() -> bool:
        stored = {row.invoice_id: row for row in _stored(stack, invoices)}
        return set(stored) == set(billed) and all(
            stored[i].status == ("paid" if b["status"] == "paid" else "posted")
            for i, b in billed.items()
        )

    stack.wait("both invoices carried to the ERP", all_recorded)

    netsuite = stack.state("netsuite")
    erp_invoices = {i["externalId"]: i for i in _records(netsuite, "invoice")}
    assert set(erp_invoices) == set(billed)
    for invoice_id, invoice in billed.items():
        erp = erp_invoices[invoice_id]
        assert erp["currency"]["id"]
        assert Decimal(str(erp["subtotal"])) == Decimal(invoice["total_excluding_tax"]) / 100
    erp_payments = _records(netsuite, "customerPayment")
    paid = [i for i in billed.values() if i["status"] == "paid" and i["amount_paid"] > 0]
    assert len(erp_payments) == len(paid)
    for payment in erp_payments:
        [applied] = payment["apply"]["items"]
        target = next(e for e in erp_invoices.values() if e["id"] == applied["doc"]["id"])
        assert Decimal(str(applied["amount"])) == Decimal(str(target["total"]))

    documents = [
        t for t in _records(stack.state("avalara"), "transactions") if t["code"].startswith("inv:")
    ]
    assert len(documents) == len(billed)
    assert all(d["status"] == "Committed" for d in documents)

    shown = stack.book.seeder.query(
        "SELECT Billing_Invoice_Id__c, Status__c, Amount__c FROM Billing_Invoice__c "
        f"WHERE Opportunity__c = '{opportunity}'"
    )
    assert {row["Billing_Invoice_Id__c"] for row in shown} == set(billed)
    assert {row["Status__c"] for row in shown if row["Billing_Invoice_Id__c"] == first["id"]} == {
        "Paid"
    }

    assert len(_logged(stack, "invoice.posted")) == len(billed)
    assert len(_logged(stack, "payment.received")) == len(paid)
    assert len(_stored(stack, payments)) == len(paid)
    with stack.engine.connect() as conn:
        assert cases.open_for_correlation(conn, deal.correlation_id) == []
