"""Deals: search, and one deal's timeline across CRM → rules → ERP → tax → billing → CRM,
then its invoices and payments.

Search is the application layer's one deal search (:func:`revbridge.service.deals.search`):
a deal by its key, name, account, correlation id or any system's id. A deal's page shows
where it stands, every step with its duration and attempt, the ids in every system, its
exception cases (its invoices' too), its invoices as carried to the ERP, and what operators
did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import AfterValidator

from revbridge.api.parameters import PathId
from revbridge.canonical.ids import check_id_characters
from revbridge.console.rendering import page
from revbridge.console.session import ConsoleDep, SignedIn
from revbridge.flows.step_names import PHASES
from revbridge.service import deals
from revbridge.service.deals import Deal, Status

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


@router.get("/deals")
def search_page(
    request: Request,
    user: SignedIn,
    console: ConsoleDep,
    q: Annotated[str, Query(max_length=200), AfterValidator(check_id_characters)] = "",
    status: Status | None = None,
) -> HTMLResponse:
    text = q.strip()
    found = deals.search(console.context.engine, text, status, limit=SEARCH_LIMIT)
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
    found = deals.view(console.context.engine, deal_key)
    if found is None:
        raise HTTPException(404, f"There is no deal {deal_key}.")
    steps = timeline(found.timeline)
    shown: dict[str, Any] = {
        "deal": found.deal,
        "steps": steps,
        "lanes": lanes(steps),
        "ids": ids(found.deal, steps),
        "bindings": found.bindings,
        "cases": found.cases,
        "activity": found.activity,
        "invoices": found.invoices,
    }
    return page(request, "deal.html", user, **shown)
