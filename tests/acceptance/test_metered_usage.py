"""Metered usage, end to end: a booked deal's API calls recorded in January reach Stripe's
meter through a real `revbridge worker`, and the invoice billing posts on 1 February
bills them at the product map's price."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from acceptance_stack import Stack
from sqlalchemy import select

from revbridge.app import remote_usage_reporter
from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.load import load_policy
from revbridge.service import usage
from revbridge.store import bindings
from revbridge.store import usage as records
from revbridge.store.tables import invoices
from revbridge.testing.estate import SANDBOX_ENV

MID_JANUARY = datetime(2027, 1, 15, 12, tzinfo=UTC)
AFTER_JANUARY = datetime(2027, 2, 1, 4, tzinfo=UTC)  # billing's run for January is at 03:00
QUANTITY = 12  # thousands of API calls, the product's unit
UNIT_PENCE = Decimal("160")  # USG-API-CALLS costs 1.60 GBP per unit


def _advance_to(stack: Stack, when: datetime) -> None:
    response = httpx.post(
        f"{stack.estate.urls['stripe']}/_sandbox/clock/advance",
        json={"to": int(when.timestamp())},
        timeout=60,
    )
    assert response.status_code == 200, response.text


def _get(stack: Stack, path: str, **params: Any) -> Any:
    """A read of Stripe's API (the sandbox), as billing answers it."""
    response = httpx.get(
        f"{stack.estate.urls['stripe']}{path}",
        params=params,
        headers={"Authorization": f"Bearer {SANDBOX_ENV['STRIPE_API_KEY']}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _usage_lines(stack: Stack, customer: str) -> list[dict[str, Any]]:
    """The metered lines of the customer's invoices for January."""
    found = _get(stack, "/v1/invoices", customer=customer, limit=100)["data"]
    lines = [line for i in found for line in i["lines"]["data"]]
    january = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())
    return [
        line
        for line in lines
        if (line.get("pricing") or {}).get("price_details", {}).get("price")
        and line["period"]["start"] == january
        and line["period"]["end"] > january + 86_400 * 27
        and line["period"]["end"] < january + 86_400 * 32
    ]


def _state(stack: Stack, record_id: str) -> str | None:
    with stack.engine.connect() as conn:
        stored = records.get(conn, record_id)
    return None if stored is None else str(stored.state)


def test_usage_recorded_in_january_is_billed_on_the_february_invoice(stack: Stack) -> None:
    opportunity = stack.uk_deal()
    stack.worker()
    stack.close(opportunity)
    deal = stack.activated(opportunity)
    payer = deal.refs["billing_customer"]
    with stack.engine.connect() as conn:
        customer_id = bindings.canonical_for(conn, "customer", "stripe", payer)
    assert customer_id is not None

    _advance_to(stack, MID_JANUARY)
    record = usage.UsageRecord(
        record_id="api-calls-2027-01-15",
        customer_id=customer_id,
        sku="USG-API-CALLS",
        quantity=Decimal(QUANTITY),
        timestamp=MID_JANUARY,
    )
    policy = load_policy(EXAMPLE_POLICY)
    outcome = usage.submit(stack.engine, policy, record, "test:product", now=MID_JANUARY)
    assert outcome is usage.Outcome.ACCEPTED
    report = remote_usage_reporter(stack.database_url)
    asyncio.run(report(record.record_id))
    asyncio.run(report(record.record_id))  # sent twice: attaches to the same run
    stack.wait("the usage reported", lambda: _state(stack, record.record_id) == "reported")

    _advance_to(stack, AFTER_JANUARY)
    [line] = stack.wait("January's usage invoiced", lambda: _usage_lines(stack, payer))

    assert line["quantity"] == QUANTITY
    assert Decimal(line["amount"]) == QUANTITY * UNIT_PENCE
    [event] = stack.state("stripe")["billing_meter_events"]
    assert event["identifier"] == record.record_id


def _posted(stack: Stack, customer: str) -> list[dict[str, Any]]:
    found = _get(stack, "/v1/invoices", customer=customer, limit=100)["data"]
    return [i for i in found if i["status"] != "draft" and i["total"] > 0]


def _carried(stack: Stack) -> dict[str, str]:
    with stack.engine.connect() as conn:
        rows = conn.execute(select(invoices.c.invoice_id, invoices.c.status)).all()
    return {row.invoice_id: row.status for row in rows}


def _pay(stack: Stack, invoice_id: str) -> None:
    response = httpx.post(
        f"{stack.estate.urls['stripe']}/v1/invoices/{invoice_id}/pay",
        data={"payment_method": "pm_card_visa"},
        headers={"Authorization": f"Bearer {SANDBOX_ENV['STRIPE_API_KEY']}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_two_billing_periods_each_reach_erp_and_tax_once_and_are_paid_once(stack: Stack) -> None:
    """The UK deal (subscription, service and usage add-on) through two billing periods:
    each billing invoice has one ERP invoice with its lines, amounts, currency and tax, one
    committed tax document with that tax, and once paid one ERP payment applied to it."""
    opportunity = stack.uk_deal()
    stack.worker(None, "--billing-poll", "0.3")
    stack.close(opportunity)
    deal = stack.activated(opportunity)
    payer = deal.refs["billing_customer"]
    with stack.engine.connect() as conn:
        customer_id = bindings.canonical_for(conn, "customer", "stripe", payer)
    assert customer_id is not None
    _advance_to(stack, MID_JANUARY)
    record = usage.UsageRecord(
        record_id="api-calls-2027-01-15b",
        customer_id=customer_id,
        sku="USG-API-CALLS",
        quantity=Decimal(QUANTITY),
        timestamp=MID_JANUARY,
    )
    usage.submit(stack.engine, load_policy(EXAMPLE_POLICY), record, "test:product", now=MID_JANUARY)
    asyncio.run(remote_usage_reporter(stack.database_url)(record.record_id))
    stack.wait("the usage reported", lambda: _state(stack, record.record_id) == "reported")
    _advance_to(stack, AFTER_JANUARY)
    billed = stack.wait(
        "two invoices", lambda: len(_posted(stack, payer)) == 2 and _posted(stack, payer)
    )
    for invoice in billed:
        _pay(stack, invoice["id"])
    stack.wait(
        "both carried and paid",
        lambda: all(_carried(stack).get(i["id"]) == "paid" for i in billed),
    )

    netsuite = stack.state("netsuite")
    erp = {i["externalId"]: i for i in _records(netsuite, "invoice")}
    taxes = {
        t["code"]: t
        for t in _records(stack.state("avalara"), "transactions")
        if t["code"].startswith("inv:")
    }
    assert set(erp) == {i["id"] for i in billed}
    assert len(taxes) == 2
    for invoice in (_stripe_invoice(stack, i["id"]) for i in billed):
        mine = erp[invoice["id"]]
        tax = Decimal(invoice["total"] - invoice["total_excluding_tax"]) / 100
        assert Decimal(str(mine["total"])) == Decimal(invoice["total"]) / 100
        assert Decimal(str(mine["taxTotal"])) == tax
        assert Decimal(str(mine["amountRemaining"])) == 0
        assert len(_lines(mine)) == len(invoice["lines"]["data"])
        [document] = [t for t in taxes.values() if t["referenceCode"] == invoice["number"]]
        assert (document["status"], Decimal(str(document["totalTax"]))) == ("Committed", tax)
    payments = _records(netsuite, "customerPayment")
    assert len(payments) == 2
    applied = {a["doc"]["id"] for p in payments for a in _lines(p, "apply")}
    assert applied == {e["id"] for e in erp.values()}


def _stripe_invoice(stack: Stack, invoice_id: str) -> dict[str, Any]:
    return dict(_get(stack, f"/v1/invoices/{invoice_id}"))


def _lines(record: dict[str, Any], sublist: str = "item") -> list[dict[str, Any]]:
    lines = record[sublist]
    return list(lines["items"] if isinstance(lines, dict) else lines)


def _records(state: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    found = state.get(kind) or state.get("records", {}).get(kind) or {}
    return list(found.values()) if isinstance(found, dict) else list(found)
