"""Deals: search, and one deal's timeline across CRM → rules → ERP → tax → billing → CRM.

Search finds a deal by its key, name, account, correlation id or any system's id: the
ids the deal recorded, and through the bindings table the other systems' ids of the
same objects. A deal's page shows where it stands, every step with its duration and
attempt, the ids in every system, its exception cases and what operators did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import AfterValidator
from sqlalchemy import Connection, or_, select

from revbridge.api.parameters import PathId
from revbridge.canonical.ids import check_id_characters
from revbridge.console.rendering import page
from revbridge.console.session import ConsoleDep, SignedIn
from revbridge.flows.step_names import PHASES
from revbridge.store import bindings, cases, deals
from revbridge.store.deals import Deal, Status
from revbridge.store.tables import audit_log
from revbridge.store.tables import bindings as binding_rows

router = APIRouter()
SEARCH_LIMIT = 100

#: What each id a deal records is, and in which phase's system it lives.
REFS: dict[str, tuple[str, str]] = {
    "legal_entity": ("Rules", "legal entity"),
    "erp_customer": ("ERP", "customer"),
    "erp_order": ("ERP", "sales order"),
    "tax_document": ("Tax", "tax document"),
    "billing_customer": ("Billing", "customer"),
    "subscription": ("Billing", "subscription"),
    "billing_subscription": ("Billing", "subscription"),
    "invoice_items": ("Billing", "invoice items"),
}


@dataclass(frozen=True)
class Step:
    phase: str
    step: str
    system: str | None
    outcome: str
    attempt: int
    seconds: float
    row: dict[str, Any]


def phase_of(step: str) -> int:
    return next((i for i, (_, _, steps) in enumerate(PHASES) if step in steps), -1)


def find(conn: Connection, text: str, status: Status | None) -> list[Deal]:
    """Deals matching ``text`` (see the module), newest first, at most SEARCH_LIMIT."""
    found = {d.deal_key: d for d in deals.search(conn, text, limit=SEARCH_LIMIT)}
    pattern = f"%{text}%"
    matched = conn.execute(
        select(binding_rows.c.entity, binding_rows.c.canonical_id)
        .where(
            or_(binding_rows.c.external_id.like(pattern), binding_rows.c.canonical_id.like(pattern))
        )
        .limit(20)
    ).all()
    for entity, canonical_id in matched:
        for binding in bindings.for_canonical(conn, entity, canonical_id):
            for deal in deals.search(conn, f'"{binding.external_id}"', limit=SEARCH_LIMIT):
                found.setdefault(deal.deal_key, deal)
    chosen = [d for d in found.values() if status in (None, d.status)]
    return sorted(chosen, key=lambda d: d.updated_at, reverse=True)[:SEARCH_LIMIT]


def timeline(rows: list[dict[str, Any]]) -> list[Step]:
    seen: dict[str, int] = {}
    steps = []
    for row in rows:
        seen[row["step"]] = seen.get(row["step"], 0) + 1
        index = phase_of(row["step"])
        steps.append(
            Step(
                PHASES[index][0] if index >= 0 else "revbridge",
                row["step"],
                row["system"],
                row["outcome"],
                max(seen[row["step"]], int(row["attempt"] or 1)),
                max(0.0, (row["finished_at"] - row["started_at"]).total_seconds()),
                row,
            )
        )
    return steps


def lanes(steps: list[Step]) -> list[dict[str, Any]]:
    """Each phase: done, failed (its latest step failed), or not reached yet."""
    result = []
    for i, (name, what, _names) in enumerate(PHASES):
        mine = [s for s in steps if phase_of(s.step) == i]
        latest: dict[str, str] = {}
        for s in mine:
            latest[s.step] = s.outcome
        state = "waiting"
        if mine:
            state = "failed" if "failed" in latest.values() else "done"
        system = next((s.system for s in mine if s.system), None)
        total = sum(s.seconds for s in mine)
        result.append(
            {
                "name": name,
                "what": what,
                "state": state,
                "system": system,
                "seconds": total if mine else None,
                "steps": len(mine),
            }
        )
    return result


def ids(deal: Deal, steps: list[Step]) -> list[tuple[str, str | None, str, str]]:
    """(phase, system, object, id) for every id the deal recorded."""
    systems = {s.phase: s.system for s in steps if s.system}
    system, _, opportunity = deal.deal_key.partition(":")
    rows: list[tuple[str, str | None, str, str]] = [("CRM", system, "opportunity", opportunity)]
    for key, value in deal.refs.items():
        phase, what = REFS.get(key, ("revbridge", key.replace("_", " ")))
        values = value if isinstance(value, list) else [value]
        rows.extend((phase, systems.get(phase), what, str(v)) for v in values if v is not None)
    return list(dict.fromkeys(rows))


def linked(conn: Connection, deal: Deal) -> list[bindings.Binding]:
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


def activity(conn: Connection, deal: Deal, limit: int = 50) -> list[dict[str, Any]]:
    """Audit entries about the deal (its correlation id): operator actions, activation."""
    rows = conn.execute(
        select(audit_log.c.at, audit_log.c.actor, audit_log.c.action, audit_log.c.subject)
        .where(audit_log.c.correlation_id == deal.correlation_id)
        .order_by(audit_log.c.seq)
        .limit(limit)
    ).all()
    return [r._asdict() for r in rows]


@router.get("/deals")
def search_page(
    request: Request,
    user: SignedIn,
    console: ConsoleDep,
    q: Annotated[str, Query(max_length=200), AfterValidator(check_id_characters)] = "",
    status: Status | None = None,
) -> HTMLResponse:
    text = q.strip()
    with console.context.engine.connect() as conn:
        if text:
            found = find(conn, text, status)
        elif status is not None:
            found = deals.by_status(conn, status, limit=SEARCH_LIMIT)  # oldest first
        else:
            found = deals.search(conn, "", limit=SEARCH_LIMIT)  # newest first
    return page(
        request,
        "deals.html",
        user,
        deals=found,
        q=text,
        status=status and status.value,
        statuses=[s.value for s in Status],
    )


@router.get("/deals/{deal_key:path}")
def deal_page(
    request: Request, deal_key: PathId, user: SignedIn, console: ConsoleDep
) -> HTMLResponse:
    if len(deal_key) > 200:
        raise HTTPException(404, "There is no such deal.")
    with console.context.engine.connect() as conn:
        deal = deals.get(conn, deal_key)
        if deal is None:
            raise HTTPException(404, f"There is no deal {deal_key}.")
        steps = timeline(deals.timeline(conn, deal_key))
        shown: dict[str, Any] = {
            "deal": deal,
            "steps": steps,
            "lanes": lanes(steps),
            "ids": ids(deal, steps),
            "bindings": linked(conn, deal),
            "cases": cases.for_deal(conn, deal_key),
            "activity": activity(conn, deal),
        }
    return page(request, "deal.html", user, **shown)
