"""A deal waiting for a person costs no worker capacity: open cases never stop new deals."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from acceptance_stack import Stack

from revbridge_sandboxes.seed import create_deal

US = {
    "BillingStreet": "350 5th Ave",
    "BillingCity": "New York",
    "BillingStateCode": "NY",
    "BillingPostalCode": "10001",
    "BillingCountryCode": "US",
}
LINES = [("SUB-PLATFORM-ANNUAL", 1), ("SVC-IMPLEMENTATION", 1)]
SLOTS = 2


def _deal(stack: Stack, name: str, end: date = date(2027, 12, 31), **address: Any) -> str:
    return create_deal(
        stack.book,
        account={"Name": name, **US, **address},
        lines=LINES,
        currency="USD",
        start=date(2027, 1, 1),
        end=end,
    )


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_more_open_cases_than_worker_slots_do_not_stop_new_deals(stack: Stack) -> None:
    # Cases before the account's turn (contract dates) and after customers were written
    # (no tax nexus in Florida): both kinds wait for a person, three times the slots.
    broken = [_deal(stack, f"Dated {i}", end=date(2026, 12, 1)) for i in range(SLOTS + 1)]
    broken += [
        _deal(stack, f"Florida {i}", BillingStateCode="FL", BillingCity="Miami")
        for i in range(SLOTS + 1)
    ]
    stack.worker(None, "--concurrency", str(SLOTS))
    stack.close(*broken)
    for opportunity in broken:
        stack.case_for(opportunity)

    good = [_deal(stack, f"Healthy {i}") for i in range(2 * SLOTS)]
    stack.close(*good)
    for opportunity in good:
        stack.activated(opportunity)

    for opportunity in broken:
        assert stack.open_case(opportunity) is not None, opportunity
    assert stack.counts()["erp_orders"] == len(good)
