"""Everything the invariants are checked against, read after the run from where it lives.

The systems' side comes from each sandbox's ``GET /_sandbox/state`` (not fault-injected),
parsed with ``Decimal`` for every number so that no amount passes through a float.
revbridge's side comes from its own tables (deals, cases, inbox, audit log) and from DBOS's
workflow statuses. :class:`Evidence` holds plain values, so the invariants are pure
functions of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import Engine, func, select

from revbridge.cases.model import ExceptionCase
from revbridge.store import audit, cases, deals, inbox
from revbridge.store.audit import ChainReport
from revbridge.store.tables import inbox as inbox_table
from revbridge.store.tables import invoices as invoices_table

Record = dict[str, Any]


@dataclass
class Evidence:
    """The estate after the run: the CRM, ERP, billing and tax records, and revbridge's."""

    closed: dict[str, str | None]  # opportunity id → seeded defect (None: a clean deal)
    opportunities: dict[str, Record]
    accounts: dict[str, Record]
    erp_customers: list[Record]
    erp_orders: list[Record]
    billing_customers: list[Record]
    subscriptions: list[Record]
    invoice_items: list[Record]
    tax_documents: list[Record]
    billing_invoices: list[Record]  # every invoice billing issued
    erp_invoices: list[Record]
    erp_payments: list[Record]
    invoices: dict[str, str]  # revbridge's invoice status by billing invoice id
    deals: dict[str, deals.Deal]  # by deal key
    cases: dict[str, list[ExceptionCase]]  # by deal key, oldest first
    inbox_rows: dict[str, int]  # inbox rows by business key
    duplicates_suppressed: int
    workflows: dict[str, str]  # DBOS status by workflow id
    audit: ChainReport
    faults: dict[str, dict[str, int]]  # injected by sandbox and kind
    cdc_delivery: dict[str, Any]  # the Salesforce push relay's delivery log


def sandbox_state(url: str) -> Record:
    """A sandbox's ``/_sandbox/state`` with every JSON number as a Decimal."""
    response = httpx.get(f"{url}/_sandbox/state", timeout=600)
    response.raise_for_status()
    state: Record = json.loads(response.content, parse_float=Decimal, parse_int=Decimal)
    return state


def fault_counts(urls: dict[str, str]) -> dict[str, dict[str, int]]:
    """What each sandbox injected so far, by kind."""
    return {
        name: {k: int(v) for k, v in sandbox_state(url)["_faults"].items()}
        for name, url in urls.items()
    }


def gather(
    urls: dict[str, str],
    engine: Engine,
    workflows: dict[str, str],
    closed: dict[str, str | None],
) -> Evidence:
    """Read the four sandboxes and revbridge's store (``workflows`` come from DBOS)."""
    sf, ns = sandbox_state(urls["salesforce"]), sandbox_state(urls["netsuite"])
    stripe, tax = sandbox_state(urls["stripe"]), sandbox_state(urls["avalara"])
    records = sf["records"]
    store = _store(engine)
    return Evidence(
        closed=closed,
        opportunities={r["Id"]: r for r in records["Opportunity"]},
        accounts={r["Id"]: r for r in records["Account"]},
        erp_customers=list(ns["records"]["customer"].values()),
        erp_orders=list(ns["records"]["salesOrder"].values()),
        billing_customers=stripe["customers"],
        subscriptions=stripe["subscriptions"],
        invoice_items=stripe["invoiceitems"],
        tax_documents=tax["transactions"],
        billing_invoices=stripe["invoices"],
        erp_invoices=list(ns["records"].get("invoice", {}).values()),
        erp_payments=list(ns["records"].get("customerPayment", {}).values()),
        workflows=workflows,
        faults={
            name: {k: int(v) for k, v in state["_faults"].items()}
            for name, state in (
                ("salesforce", sf),
                ("netsuite", ns),
                ("stripe", stripe),
                ("avalara", tax),
            )
        },
        cdc_delivery={
            k: v if isinstance(v, list) else int(v) for k, v in sf["cdc_delivery"].items()
        },
        **store,
    )


def _carried(conn: Any) -> dict[str, str]:
    rows = conn.execute(select(invoices_table.c.invoice_id, invoices_table.c.status)).all()
    return {str(row.invoice_id): str(row.status) for row in rows}


def owed(invoice: Record) -> bool:
    """An invoice billing issued with something to pay (drafts and $0 invoices are not
    posted to the ERP)."""
    return invoice.get("status") in ("open", "paid") and Decimal(invoice.get("total") or 0) > 0


def invoice_correlation(invoice: Record) -> str | None:
    """The deal's correlation id revbridge put on what the invoice bills."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    lines = (invoice.get("lines") or {}).get("data") or invoice.get("_lines") or []
    for metadata in [details.get("metadata") or {}] + [
        line.get("metadata") or {} for line in lines
    ]:
        if metadata.get("correlation_id"):
            return str(metadata["correlation_id"])
    return None


def _store(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = deals.by_status(conn, limit=10_000_000)
        by_deal: dict[str, list[ExceptionCase]] = {}
        for case in cases.search(conn, state=None, limit=10_000_000):
            by_deal.setdefault(case.deal_key, []).append(case)
        inbox_rows = {
            str(key): int(n)
            for key, n in conn.execute(
                select(inbox_table.c.business_key, func.count()).group_by(
                    inbox_table.c.business_key
                )
            )
        }
        suppressed = inbox.duplicates_suppressed(conn)
        carried = _carried(conn)
    return {
        "invoices": carried,
        "deals": {d.deal_key: d for d in rows},
        "cases": by_deal,
        "inbox_rows": inbox_rows,
        "duplicates_suppressed": suppressed,
        "audit": audit.verify(engine),
    }
