"""An order package submitted through the API is validated like a deal and booked by the
same flow; an order that breaks a rule is refused with every finding and stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from acceptance_stack import Stack

from revbridge.api.main import create_app
from revbridge.app import remote_starter
from revbridge.config.load import load_policy
from revbridge.config.settings import Settings
from revbridge.store import api_keys, packages
from revbridge.testing.servers import serve

ADDRESS = {
    "line1": "2 Piccadilly Pl",
    "city": "Manchester",
    "postal_code": "M1 1AE",
    "country": "GB",
}


def _order(order_id: str, country: str = "GB") -> dict[str, Any]:
    def line(n: int, sku: str, kind: str, price: str) -> dict[str, Any]:
        money = {"amount": price, "currency": "GBP"}
        return {
            "line_id": f"{order_id}-{n}",
            "sku": sku,
            "kind": kind,
            "quantity": "1",
            "unit_price": money,
            "amount": money,
        }

    customer = {
        "customer_id": "cpq-cust-7",
        "name": "Umbrella UK",
        "parent_id": "cpq-root-7",
        "billing_address": {**ADDRESS, "country": country},
        "currency": "GBP",
    }
    return {
        "order": {
            "order_id": order_id,
            "source": {"system": "cpq", "id": order_id},
            "customer": customer,
            "currency": "GBP",
            "correlation_id": "from-the-cpq",
            "lines": [
                line(1, "SUB-PLATFORM-ANNUAL", "subscription", "9600.00"),
                line(2, "SVC-IMPLEMENTATION", "service", "12000.00"),
            ],
            "contract": {
                "start_date": "2027-01-01",
                "end_date": "2027-12-31",
                "term_months": 12,
                "billing_frequency": "annual",
            },
        },
        "parents": [
            {
                "customer_id": "cpq-root-7",
                "name": "Umbrella Group",
                "billing_address": ADDRESS,
                "currency": "GBP",
            }
        ],
        "name": "Umbrella UK — platform",
    }


@pytest.fixture
def api(stack: Stack) -> Iterator[tuple[str, dict[str, str]]]:
    settings = Settings(database_url=stack.database_url)
    app = create_app(
        settings, stack.engine, load_policy(stack.policy), start=remote_starter(stack.database_url)
    )
    with stack.engine.begin() as conn:
        _key, token = api_keys.create(conn, "cpq", "sales_ops")
    with serve(app) as base:
        yield base, {"Authorization": f"Bearer {token}"}


def test_a_submitted_order_is_booked_by_the_quote_to_cash_flow(
    stack: Stack, api: tuple[str, dict[str, str]]
) -> None:
    base, auth = api
    assert stack.book.entries  # the price book exists in the CRM and billing sandboxes
    stack.worker()

    def submitted() -> httpx.Response | None:  # 503 until a worker has created its queue
        answer = httpx.post(f"{base}/v1/orders", json=_order("cpq-1001"), headers=auth, timeout=30)
        assert answer.status_code in (202, 503), answer.text
        return answer if answer.status_code == 202 else None

    answer = stack.wait("the order to be accepted", submitted)
    assert answer.json()["deal"] == "api:cpq-1001"

    def activated() -> bool:
        deal = stack.deal_by_key("api:cpq-1001")
        return deal is not None and deal.status.value == "activated"

    stack.wait("the submitted order to be activated", activated)
    counts = stack.counts()
    assert (counts["erp_customers"], counts["erp_orders"], counts["tax_documents"]) == (2, 1, 1)
    status = httpx.get(f"{base}/v1/deals/api:cpq-1001", headers=auth, timeout=30).json()
    assert status["stage"] == "activated"
    again = httpx.post(f"{base}/v1/orders", json=_order("cpq-1001"), headers=auth, timeout=30)
    assert again.json()["outcome"] == "duplicate"
    assert stack.deal_by_key("api:cpq-1001").status.value == "activated"  # type: ignore[union-attr]
    assert stack.counts() == counts


def test_an_order_breaking_a_rule_is_refused_with_its_findings(
    stack: Stack, api: tuple[str, dict[str, str]]
) -> None:
    base, auth = api
    order = _order("cpq-2002", country="JP")
    answer = httpx.post(f"{base}/v1/orders", json=order, headers=auth, timeout=30)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    rules = [f["rule"] for f in answer.json()["findings"]]
    assert rules == ["validation.tax_nexus", "validation.billing"]  # routed to ACME-US (USD)
    with stack.engine.connect() as conn:
        assert packages.load(conn, "api:cpq-2002") is None
    unknown = httpx.post(f"{base}/v1/orders", json={**order, "rush": True}, headers=auth)
    assert unknown.status_code == 422
