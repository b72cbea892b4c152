"""Metered usage, end to end: a booked deal's API calls recorded in January reach Stripe's
meter through a real `revbridge worker`, and the invoice billing posts on 1 February
bills them at the product map's price."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from acceptance_stack import Stack

from revbridge.app import remote_usage_reporter
from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.load import load_policy
from revbridge.service import usage
from revbridge.store import bindings
from revbridge.store import usage as records
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


def _usage_lines(stack: Stack, customer: str) -> list[dict[str, Any]]:
    """The metered lines of the customer's invoices for January."""
    response = httpx.get(
        f"{stack.estate.urls['stripe']}/v1/invoices",
        params={"customer": customer, "limit": 100},
        headers={"Authorization": f"Bearer {SANDBOX_ENV['STRIPE_API_KEY']}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    lines = [line for i in response.json()["data"] for line in i["lines"]["data"]]
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
