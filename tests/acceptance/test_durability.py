"""Crashes, lost answers, duplicates and replays never make a second object anywhere."""

from __future__ import annotations

import time

import pytest
from acceptance_stack import Stack

from revbridge.store import counters, inbox

ONE_OF_EACH = {
    "erp_customers": 2,
    "erp_orders": 1,
    "billing_customers": 1,
    "subscriptions": 1,
    "invoice_items": 1,
    "tax_documents": 1,
}
STEPS = [
    "upsert_erp_customer",
    "quote_tax",
    "submit_sales_order",
    "ensure_billing_customer",
    "start_subscription",
    "add_invoice_items",
    "write_back",
]


@pytest.mark.parametrize("step", STEPS)
def test_worker_killed_after_each_step_restarts_and_completes_without_duplicates(
    stack: Stack, step: str
) -> None:
    opportunity = stack.uk_deal()
    marker = stack.tmp / "killed"
    first = stack.worker({"REVBRIDGE_KILL_AFTER_STEP": step, "REVBRIDGE_KILL_MARKER": str(marker)})
    stack.close(opportunity)
    stack.wait("the worker to die", lambda: first.process and first.process.poll() is not None)
    assert marker.read_text() == step
    assert first.process is not None
    assert first.process.returncode == -9
    stack.worker()
    stack.activated(opportunity)
    assert stack.counts() == ONE_OF_EACH


def test_lost_answers_on_every_create_leave_exactly_one_object(stack: Stack) -> None:
    opportunity = stack.uk_deal()
    drop = {"commit_then_drop_rate": 1.0, "max_count": 1}
    stack.faults(
        "netsuite",
        [
            {"method": "PUT", "path": "*/customer/eid:*", **drop},
            {"method": "PUT", "path": "*/salesOrder/eid:*", **drop},
        ],
    )
    stack.faults(
        "stripe",
        [
            {"method": "POST", "path": f"/v1/{kind}", **drop}
            for kind in ("customers", "subscriptions", "invoiceitems")
        ],
    )
    stack.faults("avalara", [{"path": "*/transactions/createoradjust", **drop}])
    stack.faults("salesforce", [{"method": "PATCH", "path": "*/composite/sobjects", **drop}])
    stack.worker()
    stack.close(opportunity)
    stack.activated(opportunity)
    assert stack.counts() == ONE_OF_EACH
    drops = {n: stack.state(n)["_faults"].get("commit_then_drop") for n in stack.estate.urls}
    assert drops == {"netsuite": 2, "stripe": 3, "avalara": 1, "salesforce": 1}


def test_redelivered_events_and_a_replay_after_completion_create_nothing(stack: Stack) -> None:
    opportunity = stack.uk_deal()
    stack.worker()
    stack.close(opportunity)
    deal = stack.activated(opportunity)
    before = stack.counts()
    assert before == ONE_OF_EACH
    with stack.engine.begin() as conn:  # the change feed is read again from the start
        counters.set_watermark(conn, "salesforce", 0)
        received = inbox.count(conn)

    def redelivered() -> bool:
        with stack.engine.connect() as conn:
            return counters.watermark(conn, "salesforce") not in (0, None)

    stack.wait("the feed to be read again", redelivered)
    with stack.engine.connect() as conn:
        assert inbox.count(conn) == received
    result = stack.revbridge("replay", deal.deal_key)
    assert result.returncode == 0, result.stderr
    assert "replaying" in result.stdout
    stack.wait("the replay to write back again", lambda: _write_backs(stack, deal.deal_key) >= 2)
    assert stack.counts() == before

    # A late change under new event ids: the deal is reopened and closed again in the CRM.
    sf = stack.book.seeder
    sf.update("Opportunity", opportunity, {"StageName": "Negotiation/Review"})
    sf.update("Opportunity", opportunity, {"StageName": "Closed Won"})

    def recorded() -> bool:
        with stack.engine.connect() as conn:
            return inbox.count(conn) == received + 1

    stack.wait("the late close to be recorded", recorded)
    time.sleep(2)  # time enough for a second flow to create something, were one started
    assert stack.counts() == before
    after = stack.deal(opportunity)
    assert after is not None
    assert (after.stage.value, after.status.value) == ("activated", "activated")


def _write_backs(stack: Stack, deal_key: str) -> int:
    from revbridge.store import deals

    with stack.engine.connect() as conn:
        return sum(1 for s in deals.timeline(conn, deal_key) if s["step"] == "write_back")
