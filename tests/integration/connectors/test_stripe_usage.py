"""StripeBilling.report_usage against the Stripe sandbox over real HTTP: one meter event
per usage record, whatever is lost or resent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from test_stripe import ENV, book, calls, run, seed_catalog, state, system, uk_plan, until

from revbridge.canonical import ExternalRef
from revbridge.connectors.stripe import StripeBilling, build
from revbridge.errors import DataError
from revbridge.ports import UsageReport
from revbridge.testing.servers import serve
from revbridge_sandboxes.control import Sandbox
from revbridge_sandboxes.stripe import DEFAULT_API_KEY, create_app

EVENTS = "/v1/billing/meter_events"


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return create_app()


@pytest.fixture(scope="module")
def base_url(sandbox: Sandbox) -> Iterator[str]:
    with serve(sandbox) as url:
        yield url


@pytest.fixture(scope="module")
def control(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


@pytest.fixture
def billing(base_url: str, control: httpx.Client) -> StripeBilling:
    control.post("/_sandbox/reset").raise_for_status()
    seed_catalog(control)
    return build("stripe", system(base_url), ENV)


#: One instant for every report of a test: a record sent again is the same request (a
#: timestamp read anew could fall in the next second and change its parameters).
USED_AT = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)


def _usage(
    customer: ExternalRef, record_id: str = "use-0001", quantity: str = "1200"
) -> UsageReport:
    return UsageReport(
        record_id=record_id,
        customer=customer,
        sku="USG-API-CALLS",
        price_lookup_key="usg-api-calls",
        currencies=("GBP",),
        quantity=Decimal(quantity),
        occurred_at=USED_AT,
    )


def _events(control: httpx.Client) -> list[dict[str, Any]]:
    return list(state(control)["billing_meter_events"])


def test_usage_whose_answer_is_lost_after_commit_is_one_meter_event(
    billing: StripeBilling, sandbox: Sandbox, control: httpx.Client
) -> None:
    customer, _, _ = run(billing, lambda: book(billing, uk_plan()))
    seen = calls(billing)
    rule = {"method": "POST", "path": EVENTS, "commit_then_drop_rate": 1.0}

    async def scenario() -> ExternalRef:
        await asyncio.to_thread(control.put, "/_sandbox/faults", json={"rules": [rule]})
        task = asyncio.create_task(billing.report_usage(_usage(customer)))
        await until(lambda: bool(sandbox.state.meter_events.rows) or task.done())  # type: ignore[attr-defined]
        await asyncio.to_thread(control.put, "/_sandbox/faults", json={})
        return await task

    first = run(billing, scenario)
    again = run(billing, lambda: billing.report_usage(_usage(customer)))  # a resumed run

    assert first == again == ExternalRef(system="stripe", id="use-0001")
    [event] = _events(control)
    assert event["identifier"] == "use-0001"
    assert event["event_name"] == "api_calls"
    assert event["payload"] == {"stripe_customer_id": customer.id, "value": "1200"}
    assert sandbox.injector.counts["commit_then_drop"] >= 1
    assert any(c.outcome == "retryable" for c in seen)


def test_usage_reported_before_its_idempotency_key_expired_is_not_counted_again(
    billing: StripeBilling, control: httpx.Client
) -> None:
    customer, _, _ = run(billing, lambda: book(billing, uk_plan()))
    sent = control.post(
        EVENTS,
        data={"event_name": "api_calls", "identifier": "use-0002",
              "payload[stripe_customer_id]": customer.id, "payload[value]": "5"},
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
    )  # fmt: skip
    assert sent.status_code == 200, sent.text

    ref = run(billing, lambda: billing.report_usage(_usage(customer, "use-0002", "5")))

    assert ref.id == "use-0002"
    assert len(_events(control)) == 1


def test_a_quantity_that_is_not_whole_is_refused_before_anything_is_sent(
    billing: StripeBilling, control: httpx.Client
) -> None:
    customer, _, _ = run(billing, lambda: book(billing, uk_plan()))

    with pytest.raises(DataError) as caught:
        run(billing, lambda: billing.report_usage(_usage(customer, quantity="2.5")))

    assert caught.value.code == "quantity_not_integral"
    assert caught.value.system == "stripe"
    assert _events(control) == []
