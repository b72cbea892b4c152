"""The reference scenario end to end, in real processes against the sandboxes."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from acceptance_stack import Stack

from revbridge.testing.estate import SANDBOX_ENV


def _records(state: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    found = state.get(kind) or state.get("records", {}).get(kind) or {}
    return list(found.values()) if isinstance(found, dict) else list(found)


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_uk_deal_becomes_customer_tax_order_billing_and_crm_status(stack: Stack) -> None:
    opportunity = stack.uk_deal()
    stack.worker()
    stack.close(opportunity)
    deal = stack.activated(opportunity)

    netsuite = stack.state("netsuite")
    customers = _records(netsuite, "customer")
    assert len(customers) == 2
    child = next(c for c in customers if c.get("parent"))
    parent = next(c for c in customers if not c.get("parent"))
    assert child["parent"]["id"] == parent["id"]
    orders = _records(netsuite, "salesOrder")
    assert len(orders) == 1
    order = orders[0]
    assert order["subsidiary"]["id"] == "3"  # Acme Cloud Ltd, the UK subsidiary
    assert Decimal(str(order["taxTotal"])) == Decimal(str(order["subtotal"])) * Decimal("0.2")

    stripe = stack.state("stripe")
    assert len(_records(stripe, "customers")) == 1
    subscriptions = _records(stripe, "subscriptions")
    assert len(subscriptions) == 1
    assert len(_records(stripe, "invoiceitems")) == 1

    avalara = stack.state("avalara")
    assert len(_records(avalara, "transactions")) == 1

    [crm] = stack.book.seeder.query(
        "SELECT Integration_Status__c, ERP_Order_Id__c, Billing_Subscription_Id__c, "
        f"Correlation_Id__c, Account.ERP_Customer_Id__c FROM Opportunity WHERE Id = '{opportunity}'"
    )
    assert crm["Integration_Status__c"] == "Activated"
    assert crm["ERP_Order_Id__c"] == order["id"]
    assert crm["Billing_Subscription_Id__c"] == subscriptions[0]["id"]
    assert crm["Correlation_Id__c"] == deal.correlation_id
    assert crm["Account"]["ERP_Customer_Id__c"] == child["id"]
    assert deal.correlation_id in order["memo"]
    assert deal.refs["erp_order"] == order["id"]
    assert deal.stage.value == "activated"

    log = stack.workers[0].log.read_text()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    steps = [line for line in lines if line["msg"] == "step done"]
    assert len(steps) >= 9
    assert {line["correlation_id"] for line in steps} == {deal.correlation_id}
    assert {line["deal"] for line in steps} == {deal.deal_key}
    secrets = [v for k, v in SANDBOX_ENV.items() if "SECRET" in k or "KEY" in k]
    assert not any(secret in log for secret in secrets)
