"""A system's concurrency limit holds across workers when they share the store's budget."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine
from test_netsuite import ENV, UK, system

from revbridge.connectors.netsuite import NetSuiteErp, build
from revbridge.store.budgets import SharedBudgets
from revbridge.testing.factories import parent_customer
from revbridge.testing.servers import serve
from revbridge_sandboxes.control import Sandbox
from revbridge_sandboxes.netsuite import create_app

WORKERS = 2
DEALS_PER_WORKER = 12


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    sandbox: Sandbox = create_app(concurrency_limit=5)
    with serve(sandbox) as url:
        yield url


def _fleet_upserts(
    base_url: str, budgets: list[SharedBudgets | None], service_time_ms: int = 40
) -> dict[str, int]:
    """Each "worker" (its own adapter, its own in-process limit of 5) upserts its customers
    at once; returns the sandbox's concurrency figures."""
    with httpx.Client(base_url=base_url, timeout=10) as control:
        control.post("/_sandbox/reset")
        control.put("/_sandbox/netsuite/config", json={"service_time_ms": service_time_ms})
    netsuite = system(base_url)
    # equal jitter: every worker waits at least half of each backoff before trying again
    assert netsuite.retry is not None
    retry = netsuite.retry.model_copy(update={"jitter": "equal"})
    netsuite = netsuite.model_copy(update={"retry": retry})
    erps: list[NetSuiteErp] = [build("netsuite", netsuite, ENV) for _ in budgets]
    for erp, budget in zip(erps, budgets, strict=True):
        erp.client.http.shared_budget = budget

    async def main() -> None:
        try:
            await asyncio.gather(
                *(
                    erp.upsert_customer(
                        parent_customer().model_copy(
                            update={"customer_id": f"cus_w{w}_{n}", "name": f"Fleet {w}-{n}"}
                        ),
                        None,
                        UK,
                    )
                    for w, erp in enumerate(erps)
                    for n in range(DEALS_PER_WORKER)
                )
            )
        finally:
            for erp in erps:
                await erp.aclose()

    asyncio.run(main())
    with httpx.Client(base_url=base_url, timeout=10) as control:
        state = control.get("/_sandbox/state").json()
    return {**state["concurrency"], "customers": state["counts"]["customer"]}


def test_workers_with_only_their_own_limit_overrun_the_account(base_url: str) -> None:
    # Each request holds its slot long enough (200 ms) that two workers' 24 requests sent at
    # once overlap beyond 5 even on a loaded machine.
    figures = _fleet_upserts(base_url, [None] * WORKERS, service_time_ms=200)
    assert figures["rejected"] > 0
    assert figures["customers"] == WORKERS * DEALS_PER_WORKER


def test_workers_sharing_the_budget_never_exceed_the_account_limit(
    base_url: str, store_engine: Engine
) -> None:
    budgets = [SharedBudgets(store_engine, f"worker-{w}") for w in range(WORKERS)]
    figures = _fleet_upserts(base_url, list(budgets))
    assert figures["rejected"] == 0
    assert 1 <= figures["peak"] <= 5  # the limit holds; a loaded machine may not reach it
    assert figures["customers"] == WORKERS * DEALS_PER_WORKER
