"""Worker takeover: a deal whose worker goes silent finishes on a survivor, once."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from acceptance_stack import Stack
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from revbridge.store import deals, workers
from revbridge.testing.estate import LocalEstate, local_estate

FLEET = "\nfleet:\n  heartbeat_s: 0.5\n  worker_timeout_s: 3\n"


@pytest.fixture
def estate() -> Iterator[LocalEstate]:
    # The ERP takes a few seconds to approve an order, so the deal is still running when its
    # worker is paused.
    with local_estate(options={"netsuite": {"approval_delay_s": 5}}) as running:
        yield running


def _done(stack: Stack, opportunity: str, step: str) -> bool:
    with stack.engine.connect() as conn:
        steps = deals.timeline(conn, f"salesforce:{opportunity}")
    return any(s["step"] == step and s["outcome"] == "ok" for s in steps)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_silent_worker_is_taken_over_and_its_deal_completes_on_the_survivor(
    stack: Stack,
) -> None:
    with stack.policy.open("a", encoding="utf-8") as policy:
        policy.write(FLEET)
    opportunity = stack.uk_deal()
    paused = stack.worker(None, "--executor-id", "paused")
    stack.close(opportunity)
    stack.wait("the sales order", lambda: _done(stack, opportunity, "submit_sales_order"))
    assert paused.process is not None
    paused.process.send_signal(signal.SIGSTOP)
    # As if it froze inside a transaction: its row stays locked until PostgreSQL ends the
    # idle transaction (revbridge's connections set idle_in_transaction_session_timeout).
    frozen = stack.engine.connect()
    frozen.begin()
    frozen.execute(text("SELECT 1 FROM rb_workers WHERE executor_id = 'paused' FOR UPDATE")).all()
    try:
        stack.worker(None, "--executor-id", "survivor")
        deal = stack.activated(opportunity, timeout=60)
    finally:
        paused.process.send_signal(signal.SIGCONT)
    with pytest.raises(DBAPIError, match="idle-in-transaction"):  # the server ended it
        frozen.execute(text("SELECT 1")).all()
    frozen.invalidate()
    with stack.engine.connect() as conn:
        rows = {w.executor_id: w for w in workers.everyone(conn)}
    assert rows["paused"].recovered_by == "survivor"
    listed = stack.revbridge("workers", "--policy", str(stack.policy))
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[1]: line for line in listed.stdout.splitlines() if "│" in line[:2]}
    assert "taken over by survivor" in lines["paused"]
    assert "alive" in lines["survivor"]
    assert deal.status.value == "activated"
    # Woken up, the paused worker finds its work taken and stops instead of running it twice.
    assert paused.process.wait(20) == 0
    assert stack.counts()["erp_orders"] == 1
    assert stack.counts()["subscriptions"] == 1
