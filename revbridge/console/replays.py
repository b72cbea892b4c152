"""Bulk replay: choose deals by a filter (or one deal), preview them, then confirm.

The preview lists exactly the deals the filter selects now; the confirm form carries
that list back, and only deals that were previewed *and* are still selected are
replayed. The form is the API's replay command; selection, replay and audit are the
application layer's (:mod:`revbridge.service.replays`), with the console user as the actor.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from revbridge.api.auth import REPLAYS
from revbridge.api.routes import replays
from revbridge.console.rendering import page
from revbridge.console.session import Actor, ConsoleDep, Form, Posted, SignedIn, needs
from revbridge.service import replays as service
from revbridge.service.cases import Owner
from revbridge.service.deals import Status

router = APIRouter()
WHAT = "replay deals"


def command(form: Form) -> replays.ReplayCommand:
    """The API's replay command from the form's fields; 422 when they are not valid."""
    excluded = [line.strip() for line in form.get("except", "").splitlines() if line.strip()]
    deal = form.get("deal", "").strip() or None
    fields: dict[str, Any] = {
        "deal": deal,
        "filter": None
        if deal
        else {"status": form.get("status") or None, "owner": form.get("owner") or None},
        "except": excluded,
        "from_step": form.get("from_step", "").strip() or None,
    }
    try:
        return replays.ReplayCommand.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in exc.errors()
        )
        raise HTTPException(422, f"The replay is not valid: {problems}.") from exc


def _form_values(form: Form) -> dict[str, str]:
    keys = ("deal", "status", "owner", "except", "from_step")
    return {k: form.get(k, "") for k in keys}


@router.get("/replays")
def replay_form(request: Request, user: SignedIn) -> HTMLResponse:
    needs(user, REPLAYS, WHAT)
    return page(
        request,
        "replays.html",
        user,
        statuses=[s.value for s in Status],
        owners=tuple(Owner),
        values={"status": "exception"},
    )


@router.post("/replays/preview")
def preview(request: Request, form: Posted, user: Actor, console: ConsoleDep) -> HTMLResponse:
    """What would run: the deals the filter selects now. Nothing changes."""
    needs(user, REPLAYS, WHAT)
    chosen_command = command(form)
    chosen = replays.chosen_deals(console.context, chosen_command)
    return page(
        request,
        "replay_preview.html",
        user,
        deals=chosen,
        values=_form_values(form),
        limit=service.MAX_DEALS,
    )


@router.post("/replays/run")
def run(request: Request, form: Posted, user: Actor, console: ConsoleDep) -> HTMLResponse:
    """Replay the previewed deals that the filter still selects; each is audited."""
    needs(user, REPLAYS, WHAT)
    chosen_command = command(form)
    previewed = set(form.getlist("chosen"))
    context = console.context
    chosen = [d for d in replays.chosen_deals(context, chosen_command) if d.deal_key in previewed]
    results = [
        service.replay(context.engine, context.replay, user.actor, d, chosen_command.from_step)
        for d in chosen
    ]
    skipped = len(previewed) - len(chosen)
    return page(request, "replay_done.html", user, results=results, skipped=skipped)
