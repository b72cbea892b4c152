"""``revbridge alerts evaluate|list``: the policy's alert rules and their states.

``evaluate`` runs one pass — what ``revbridge worker`` does every
``REVBRIDGE_ALERT_INTERVAL_S`` seconds: computes each rule's condition, records its state
and announces a change on the rule's webhook — then prints the states. ``list`` prints the
stored states without evaluating anything. Webhook URLs are never printed.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from revbridge.config.settings import Settings

app = typer.Typer(
    help="Alert rules of the policy: evaluate now, list states.", no_args_is_help=True
)
out = Console(highlight=False, soft_wrap=True)


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%SZ")


@app.command("evaluate")
def evaluate(
    policy: Path | None = typer.Option(None, help="Policy file (default REVBRIDGE_POLICY_FILE)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per rule."),
) -> None:
    """Evaluate every alert rule once, announce changes, print the states."""
    from revbridge.app import open_store
    from revbridge.config.load import load_policy
    from revbridge.observability import alerts
    from revbridge.observability.logging import configure_logging

    settings = Settings()
    configure_logging(settings.log_level)
    loaded = load_policy(policy or settings.policy_file)
    outcomes = alerts.evaluate(open_store(settings), loaded)
    if as_json:
        for o in outcomes:
            print(json.dumps({**o.__dict__, "since": o.since and o.since.isoformat()}))
        return
    if not outcomes:
        out.print("the policy declares no alerts")
        return
    table = Table("alert", "state", "value", "threshold", "since", "announced", title="Alerts")
    for o in outcomes:
        announced = o.sent or ("yes" if o.notified else f"pending: {o.error or 'in flight'}")
        table.add_row(o.name, o.state, o.value or "-", str(o.threshold), _when(o.since), announced)
    out.print(table)


@app.command("list")
def listing() -> None:
    """The stored state of every alert rule evaluated so far."""
    from revbridge.cli.database import open_existing
    from revbridge.service import fleet

    rows = fleet.alert_states(open_existing(Settings()))
    if not rows:
        out.print("no alert has been evaluated yet (revbridge alerts evaluate)")
        return
    table = Table("alert", "state", "value", "since", "announced", "evaluated", title="Alerts")
    for row in rows:
        announced = _when(row.notified_at) if not row.owed else "pending"
        table.add_row(
            row.name, row.state, row.value or "-", _when(row.since), announced,
            _when(row.evaluated_at),
        )  # fmt: skip
    out.print(table)
