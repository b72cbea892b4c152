"""``revbridge exceptions …``, ``replay``, ``trace``, ``workers``: operate deals and the fleet."""

from __future__ import annotations

import getpass
import json
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from revbridge.app import database_url
from revbridge.canonical import ExternalRef
from revbridge.cli.database import open_existing, shown
from revbridge.config.settings import Settings
from revbridge.service import cases, deals, replays

if TYPE_CHECKING:
    from revbridge.flows.runtime import Outside

exceptions_app = typer.Typer(help="Exception cases: the ops work queue.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)
ALL = "all"
STATES: tuple[str, ...] = (*cases.CaseState, ALL)


@exceptions_app.command("list")
def list_cases(
    owner: str | None = typer.Option(None, help=" or ".join(cases.Owner)),
    state: str = typer.Option(cases.CaseState.OPEN.value, help=" or ".join(STATES)),
) -> None:
    """The exception queue, oldest first."""
    if owner is not None and owner not in tuple(cases.Owner):
        raise typer.BadParameter(
            f"unknown owner {owner!r}; owners are {', '.join(cases.Owner)}", param_hint="--owner"
        )
    if state not in STATES:
        raise typer.BadParameter(
            f"unknown state {state!r}; states are {', '.join(STATES)}", param_hint="--state"
        )
    settings = Settings()
    engine = open_existing(settings)
    rows = cases.listed(
        engine,
        owner=None if owner is None else cases.Owner(owner),
        state=None if state == ALL else cases.CaseState(state),
    )
    table = Table()
    table.add_column("case", no_wrap=True, min_width=21)
    for title in ("owner", "class", "deal", "since", "n", "message"):
        table.add_column(title)
    for c in rows:
        table.add_row(
            c.case_id,
            c.owner,
            c.failure_class,
            c.deal_key,
            c.created_at.strftime("%Y-%m-%d %H:%M"),
            str(c.occurrences),
            c.message[:80],
        )
    out.print(table)
    out.print(f"{len(rows)} case(s) in {shown(settings)}", markup=False)


@exceptions_app.command("show")
def show(case_id: str) -> None:
    """Everything about one case: context, failing request/response, guidance, actions."""
    settings = Settings()
    engine = open_existing(settings)
    case = cases.get(engine, case_id)
    if case is None:
        raise typer.TyperException(f"no exception case {case_id} in {shown(settings)}")
    out.print(
        f"[bold]{case.case_id}[/bold]  {case.state}  owner={case.owner}  "
        f"class={case.failure_class}  step={case.rule}  occurrences={case.occurrences}"
    )
    out.print(f"deal {case.deal_key}  correlation {case.correlation_id}")
    out.print(f"\n{case.message}\n\n{case.guidance}\n", markup=False)
    out.print(json.dumps(case.context, indent=2, default=str), markup=False)


def _act(action: cases.CaseAction, case_id: str) -> None:
    settings = Settings()
    engine = open_existing(settings)
    cases.act(engine, case_id, action, getpass.getuser(), _outside(settings).signal)
    out.print(f"{action} sent to case {case_id}")


@exceptions_app.command(cases.CaseAction.RETRY.value)
def retry(case_id: str) -> None:
    """Run the failed step again as it is."""
    _act(cases.CaseAction.RETRY, case_id)


@exceptions_app.command(cases.CaseAction.RESUME.value)
def resume(case_id: str) -> None:
    """Re-read the deal from the CRM (after fixing its data) and continue."""
    _act(cases.CaseAction.RESUME, case_id)


@exceptions_app.command(cases.CaseAction.COMPENSATE.value)
def compensate(case_id: str) -> None:
    """Undo what was created (ERP order, billing, tax) and mark the deal in the CRM."""
    _act(cases.CaseAction.COMPENSATE, case_id)


@exceptions_app.command(cases.CaseAction.CANCEL.value)
def cancel(case_id: str) -> None:
    """Stop working on the deal."""
    _act(cases.CaseAction.CANCEL, case_id)


def replay(
    deal: str = typer.Argument(..., help="The deal, e.g. salesforce:006…"),
    from_step: str | None = typer.Option(None, "--from-step", help="Step to restart from."),
) -> None:
    """Run a deal again on the current policy; existing objects are found, not duplicated.
    The replay is audited as the API's and the console's are."""
    settings = Settings()
    try:
        ref = ExternalRef.parse(deal)
    except ValueError:
        raise typer.BadParameter(
            f"{deal!r} is not SYSTEM:ID, e.g. salesforce:006…", param_hint="DEAL"
        ) from None
    engine = open_existing(settings)
    try:
        [chosen] = replays.choose(engine, replays.Selection(deal=str(ref)))
    except replays.UnknownDealError:
        raise typer.TyperException(
            f"no deal {ref} in {shown(settings)} (revbridge trace TEXT finds a deal by any id)"
        ) from None
    result = replays.replay(engine, _outside(settings).replay, getpass.getuser(), chosen, from_step)
    if result.error is not None:  # no such step (the message names the deal's steps)
        raise typer.BadParameter(result.error, param_hint="--from-step")
    out.print(f"replaying {deal} as workflow {result.new_workflow_id}")


def trace(
    deal: str = typer.Argument(..., help="Deal key, any system's id or a correlation id."),
) -> None:
    """The deal's timeline across systems, with the ids in each."""
    settings = Settings()
    engine = open_existing(settings)
    match = deals.find(engine, deal)
    shown_deal = None if match is None else deals.view(engine, match.deal_key)
    if shown_deal is None:
        raise typer.TyperException(f"no deal matches {deal!r} in {shown(settings)}")
    found, steps, case_rows = shown_deal.deal, shown_deal.timeline, shown_deal.cases
    out.print(
        f"[bold]{found.deal_key}[/bold]  {found.name or ''}  stage={found.stage.value}  "
        f"status={found.status.value}  correlation={found.correlation_id}"
    )
    table = Table("time")
    table.add_column("step", no_wrap=True)
    for title in ("system", "outcome", "took", "detail"):
        table.add_column(title)
    for s in steps:
        took = (s["finished_at"] - s["started_at"]).total_seconds()
        table.add_row(
            s["started_at"].strftime("%H:%M:%S.%f")[:-3],
            s["step"],
            s["system"] or "",
            s["outcome"],
            f"{took * 1000:.0f} ms",
            json.dumps(s["detail"], default=str)[:90],
        )
    out.print(table)
    out.print("ids: " + json.dumps(found.refs, default=str), markup=False)
    for c in case_rows:
        out.print(
            f"case {c.case_id} {c.state} ({c.resolution or c.owner}): {c.message}", markup=False
        )
    out.print(f"read from {shown(settings)}", markup=False)


def workers_list(
    policy: str | None = typer.Option(None, help="Policy file, for fleet.worker_timeout_s."),
) -> None:
    """The fleet: every worker, whether it is alive, and who took over the ones gone."""
    from datetime import UTC, datetime
    from pathlib import Path

    from revbridge.cli.config import require_policy
    from revbridge.config.load import load_policy
    from revbridge.config.policy import Fleet
    from revbridge.service import fleet as workers

    settings = Settings()
    if policy is not None:
        fleet = require_policy(Path(policy)).fleet
    elif settings.policy_file.exists():
        fleet = load_policy(settings.policy_file).fleet
    else:
        fleet = Fleet()
    engine = open_existing(settings)
    now = datetime.now(UTC)
    everyone = workers.everyone(engine)
    alive = workers.alive(engine, fleet.worker_timeout_s, now)
    table = Table("worker", "host", "pid", "last heartbeat", "state")
    for w in everyone:
        if w.recovered_by is not None:
            state = f"gone: taken over by {w.recovered_by}"
        elif w.executor_id in alive:
            state = "alive"
        elif w.stopped_at is not None:
            state = "stopped"
        else:
            state = "silent"
        age = (now - w.heartbeat_at).total_seconds()
        table.add_row(w.executor_id, w.host, str(w.pid), f"{age:.0f} s ago", state)
    out.print(table)
    out.print(f"{len(everyone)} worker(s) in {shown(settings)}", markup=False)


def _outside(settings: Settings) -> Outside:
    """How an action or a replay reaches the workflows; DBOS is imported only by the
    commands that deliver, so listing cases or tracing a deal starts without it."""
    from revbridge.flows.runtime import Outside

    return Outside(database_url(settings))
