"""Replays: choose deals (one, or by status and owner "all except" some), preview them,
replay them — the same for the API, the console and ``revbridge replay``.

A replay forks the deal's workflow on the current code and policy (from the start, or
``from_step``); effects are idempotent, so what exists is reused. Every replay is audited
here, once, whichever face asked: action ``deal.replay``, the deal as subject, its
workflow and status before, the new workflow id or the error after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from revbridge.errors import RevbridgeError
from revbridge.service.database import Database
from revbridge.store import audit, cases, deals
from revbridge.store.deals import Deal, Status

__all__ = ["MAX_DEALS", "Replay", "Replayed", "Selection", "UnknownDealError", "choose", "replay"]

MAX_DEALS = 1000
REPLAY_ACTION = "deal.replay"

#: Forks a deal's workflow: (workflow id, from step or None) → the new workflow id; a
#: ``ValueError`` says why it cannot (no such step, the flow never started).
Replay = Callable[[str, str | None], str]


class UnknownDealError(RevbridgeError):
    """The selection names a deal the store does not hold."""


@dataclass(frozen=True)
class Selection:
    """One deal, or the deals in ``status`` with an ``owner``'s case, except some."""

    deal: str | None = None
    status: Status | None = None
    owner: str | None = None
    except_: frozenset[str] = field(default_factory=frozenset)
    from_step: str | None = None


@dataclass
class Replayed:
    deal: str
    workflow_id: str
    new_workflow_id: str | None = None
    error: str | None = None


def choose(database: Database, selection: Selection) -> list[Deal]:
    """The deals ``selection`` picks now (the preview); nothing changes."""
    with database.connect() as conn:
        if selection.deal is not None:
            found = deals.get(conn, selection.deal)
            if found is None:
                raise UnknownDealError(f"no deal {selection.deal}")
            return [found]
        chosen = deals.by_status(conn, selection.status, limit=MAX_DEALS)
        if selection.owner is not None:
            owned = {c.deal_key for c in cases.search(conn, owner=selection.owner, limit=10**6)}
            chosen = [d for d in chosen if d.deal_key in owned]
    return [d for d in chosen if d.deal_key not in selection.except_]


def replay(
    database: Database, run: Replay, actor: str, deal: Deal, from_step: str | None = None
) -> Replayed:
    """Replay ``deal`` (``from_step`` or from the start) and audit it as ``actor``; a replay
    that cannot run is answered (and audited) with its error, not raised."""
    result = Replayed(deal=deal.deal_key, workflow_id=deal.workflow_id)
    try:
        result.new_workflow_id = run(deal.workflow_id, from_step)
    except ValueError as exc:
        result.error = str(exc)[:300]
    with database.begin() as conn:
        audit.append(
            conn,
            actor=actor,
            action=REPLAY_ACTION,
            subject=deal.deal_key,
            before={"workflow_id": deal.workflow_id, "status": deal.status.value},
            after={"new_workflow_id": result.new_workflow_id, "error": result.error},
            correlation_id=deal.correlation_id,
        )
    return result


def replay_chosen(
    database: Database, run: Replay, actor: str, selection: Selection
) -> list[Replayed]:
    """Replay every deal ``selection`` picks now, each audited."""
    return [
        replay(database, run, actor, d, selection.from_step) for d in choose(database, selection)
    ]
