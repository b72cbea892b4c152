"""Deals of one account are booked one at a time, in close order."""

from __future__ import annotations

import time
from datetime import date

from acceptance_stack import Stack

from revbridge.store import deals
from revbridge_sandboxes.seed import create_deal


def _writes(stack: Stack, opportunity: str) -> list[str]:
    with stack.engine.connect() as conn:
        steps = deals.timeline(conn, f"salesforce:{opportunity}")
    return [s["step"] for s in steps if s["step"] not in ("fetch_deal", "validate")]


def test_a_later_deal_of_the_same_account_waits_for_the_earlier_one_to_end(
    stack: Stack,
) -> None:
    # The ERP refuses every UK order without a department: the first deal stops on a case
    # after its customers were written, and keeps the account's turn while it waits.
    policy = stack.policy.read_text()
    stack.policy.write_text(policy.replace('department: "10", location: "2"', 'location: "2"', 1))
    first = stack.uk_deal()
    account = stack.account_of(first)
    upsell = create_deal(
        stack.book,
        account={"Name": "Globex UK"},
        account_id=account,
        lines=[("SUB-PLATFORM-ANNUAL", 2)],
        currency="GBP",
        start=date(2027, 1, 1),
        end=date(2027, 12, 31),
    )
    other = stack.uk_deal(parent_name="Initech Holdings", Name="Initech UK")
    stack.worker()
    stack.close(first)
    first_case = stack.case_for(first)
    stack.close(upsell, other)
    other_case = stack.case_for(other)  # another account is not held up
    time.sleep(2)
    assert stack.open_case(upsell) is None
    assert _writes(stack, upsell) == []
    assert stack.revbridge("exceptions", "cancel", first_case.case_id).returncode == 0
    upsell_case = stack.case_for(upsell)
    assert upsell_case.failure_class == "erp.data"
    assert "upsert_erp_customer" in _writes(stack, upsell)
    assert other_case.failure_class == "erp.data"
