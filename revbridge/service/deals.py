"""Deals: the one deal search, one deal with everything about it, deals by flow state.

Every face searches with :func:`search`: the API's ``/v1/deals``, the console's deal
search and ``revbridge trace``. Text matches a deal's key, name, account, correlation id
or any id it recorded, and through the bindings the other systems' ids of the same
objects (a NetSuite customer id finds the deals of that customer); matches come newest
first. Without text, a status lists that status's deals oldest first (the queue order)
and no status lists the newest deals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, or_, select

from revbridge.cases.model import ExceptionCase
from revbridge.service.database import Database
from revbridge.store import bindings, cases, deals, receivables
from revbridge.store.bindings import Binding
from revbridge.store.deals import Deal, Stage, Status
from revbridge.store.receivables import StoredInvoice
from revbridge.store.tables import audit_log
from revbridge.store.tables import bindings as binding_rows
from revbridge.store.tables import deals as deal_rows

__all__ = ["Binding", "Deal", "DealView", "Flows", "Stage", "Status", "get", "search", "view"]

BINDING_MATCHES = 20


@dataclass(frozen=True)
class DealView:
    """One deal: its steps (timeline rows, oldest first), cases, the bindings of the
    objects it created in every system, and the audit entries about it."""

    deal: Deal
    timeline: list[dict[str, Any]]
    cases: list[ExceptionCase]  # the deal's, and its invoices'
    bindings: list[Binding]
    activity: list[dict[str, Any]]
    invoices: list[StoredInvoice] = field(default_factory=list)  # billed, as carried


@dataclass(frozen=True)
class Flows:
    """Deals by flow state: the count of every status and the deals of one (or all)."""

    counts: dict[str, int]
    deals: list[Deal]


def get(database: Database, deal_key: str) -> Deal | None:
    with database.connect() as conn:
        return deals.get(conn, deal_key)


def search(
    database: Database, text: str = "", status: Status | None = None, limit: int = 50
) -> list[Deal]:
    """The deals matching ``text`` and ``status`` (see the module), at most ``limit``."""
    text = text.strip()
    with database.connect() as conn:
        if not text:
            if status is not None:
                return deals.by_status(conn, status, limit=limit)
            return deals.search(conn, "", limit=limit)
        found = {d.deal_key: d for d in deals.search(conn, text, limit=limit)}
        for binding in _bound(conn, text):
            for deal in deals.search(conn, f'"{binding.external_id}"', limit=limit):
                found.setdefault(deal.deal_key, deal)
    chosen = [d for d in found.values() if status in (None, d.status)]
    return sorted(chosen, key=lambda d: d.updated_at, reverse=True)[:limit]


def find(database: Database, text: str) -> Deal | None:
    """The deal whose key is ``text``, else the newest deal :func:`search` finds."""
    return get(database, text) or next(iter(search(database, text, limit=1)), None)


def _bound(conn: Connection, text: str) -> list[Binding]:
    """Every system's binding of the objects with an id containing ``text``."""
    pattern = f"%{text}%"
    matched = conn.execute(
        select(binding_rows.c.entity, binding_rows.c.canonical_id)
        .where(
            or_(binding_rows.c.external_id.like(pattern), binding_rows.c.canonical_id.like(pattern))
        )
        .limit(BINDING_MATCHES)
    ).all()
    return [b for entity, cid in matched for b in bindings.for_canonical(conn, entity, cid)]


def view(database: Database, deal_key: str, activity_limit: int = 50) -> DealView | None:
    """Everything about one deal, or None when there is no such deal."""
    with database.connect() as conn:
        deal = deals.get(conn, deal_key)
        if deal is None:
            return None
        return DealView(
            deal=deal,
            timeline=deals.timeline(conn, deal_key),
            cases=_cases(conn, deal),
            bindings=_linked(conn, deal),
            activity=_activity(conn, deal, activity_limit),
            invoices=receivables.invoices_of_deal(conn, deal_key),
        )


def _cases(conn: Connection, deal: Deal) -> list[ExceptionCase]:
    """The deal's cases and its invoices' (which carry its correlation id), oldest first."""
    found = {c.case_id: c for c in cases.for_deal(conn, deal.deal_key)}
    for invoice in receivables.invoices_of_deal(conn, deal.deal_key):
        found.update({c.case_id: c for c in cases.for_deal(conn, invoice.key)})
    return sorted(found.values(), key=lambda c: c.created_at)


def _linked(conn: Connection, deal: Deal) -> list[Binding]:
    """The bindings of the objects whose ids the deal recorded (all their systems)."""
    wanted = {str(v) for v in deal.refs.values() if isinstance(v, str | int)}
    if not wanted:
        return []
    objects = conn.execute(
        select(binding_rows.c.entity, binding_rows.c.canonical_id)
        .where(binding_rows.c.external_id.in_(wanted))
        .distinct()
    ).all()
    return [b for entity, cid in objects for b in bindings.for_canonical(conn, entity, cid)]


def _activity(conn: Connection, deal: Deal, limit: int) -> list[dict[str, Any]]:
    """Audit entries about the deal (its correlation id): operator actions, activation."""
    rows = conn.execute(
        select(audit_log.c.at, audit_log.c.actor, audit_log.c.action, audit_log.c.subject)
        .where(audit_log.c.correlation_id == deal.correlation_id)
        .order_by(audit_log.c.seq)
        .limit(limit)
    ).all()
    return [r._asdict() for r in rows]


def flows(database: Database, state: Status | None = None, limit: int = 200) -> Flows:
    """How many deals are in each flow state, and the deals in ``state`` (all when None)."""
    with database.connect() as conn:
        grouped = conn.execute(
            select(deal_rows.c.status, func.count()).group_by(deal_rows.c.status)
        ).all()
        listed = deals.by_status(conn, state, limit=limit)
    counts = {s.value: 0 for s in Status}
    counts.update({str(row[0]): int(row[1]) for row in grouped})
    return Flows(counts=counts, deals=listed)
