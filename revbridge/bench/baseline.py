"""The baseline: the quote-to-cash API calls in a plain loop, no durability at all."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from revbridge.canonical import ExternalRef
from revbridge.config.load import load_policy
from revbridge.connectors.registry import adapter_for_role
from revbridge.ports import DealStatus, ErpOrderState, OrderPlan
from revbridge.rules.readiness import plan as plan_deal
from revbridge.testing.estate import SANDBOX_ENV


async def book_all(policy_path: Path, opportunities: list[str], concurrency: int) -> float:
    """Book every deal with at most ``concurrency`` at once; wall seconds."""
    policy = load_policy(policy_path)
    crm = adapter_for_role(policy, "crm", SANDBOX_ENV)
    erp = adapter_for_role(policy, "erp", SANDBOX_ENV)
    tax = adapter_for_role(policy, "tax", SANDBOX_ENV)
    billing = adapter_for_role(policy, "billing", SANDBOX_ENV)
    slots = asyncio.Semaphore(concurrency)

    async def book(opportunity: str) -> None:
        async with slots:
            deal = ExternalRef(system=crm.system, id=opportunity)
            package = await crm.fetch_deal(deal)
            plan = plan_deal(package.order, package.hierarchy, policy)
            assert isinstance(plan, OrderPlan), plan
            parent = None
            for customer in plan.hierarchy:
                parent = await erp.upsert_customer(customer, parent, plan.entity)
            assert parent is not None
            quote = await tax.quote_tax(plan)
            order = await erp.submit_sales_order(plan, parent, quote)
            payer = await billing.ensure_customer(plan.order.customer, plan.entity)
            subscription = await billing.start_subscription(plan, payer)
            await billing.add_invoice_items(plan, payer)
            while await erp.get_order_state(order) not in (  # noqa: ASYNC110 - polling the ERP
                ErpOrderState.ACCEPTED,
                ErpOrderState.BILLED,
            ):
                await asyncio.sleep(0.3)
            await crm.write_back(
                deal,
                DealStatus(
                    status="Activated",
                    correlation_id=plan.order.correlation_id,
                    erp_order=order,
                    billing_customer=payer,
                    billing_subscription=subscription,
                    erp_customer=parent,
                ),
            )

    started = time.monotonic()
    await asyncio.gather(*(book(o) for o in opportunities))
    return time.monotonic() - started
