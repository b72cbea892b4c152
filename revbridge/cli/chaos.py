"""``revbridge chaos``: book deals under faults, duplicates and kills; check the invariants."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

out = Console(highlight=False)


def chaos(
    deals: int = typer.Option(300, "--deals", help="Deals to close (docs: 10,000)."),
    database_url: str | None = typer.Option(
        None, help="A fresh database (default: a new SQLite file); PostgreSQL for a fleet."
    ),
    workers: int | None = typer.Option(
        None, help="Worker processes (default 1 on SQLite, 2 on PostgreSQL)."
    ),
    kills: int = typer.Option(3, help="Random SIGKILLs of workers, each one restarted."),
    duplicates: float = typer.Option(
        0.3, help="Share of change events delivered again, and pushed twice or out of order."
    ),
    defects: float = typer.Option(0.05, help="Share of deals seeded with a defect (a case)."),
    seed: int = typer.Option(7, help="Seeds the book, the faults, the kills and the replays."),
    json_file: Path | None = typer.Option(
        None, "--json", help="Write the report here ('-': stdout)."
    ),
    timeout: float | None = typer.Option(
        None, help="Seconds to wait for every deal to settle (default 120 + 1 per deal)."
    ),
) -> None:
    """Close DEALS under 5xx, 429, dropped answers, duplicated and reordered change events and
    killed workers; exit 1 when any invariant is violated."""
    from revbridge.chaos.faults import FaultRates
    from revbridge.chaos.run import ChaosOptions, run_chaos

    if not 0 <= duplicates <= 1 or not 0 <= defects <= 1:
        raise typer.BadParameter("--duplicates and --defects are shares between 0 and 1")
    options = ChaosOptions(
        deals=deals,
        database_url=database_url,
        workers=workers,
        kills=kills,
        defects=defects,
        rates=FaultRates(duplicates=duplicates),
        seed=seed,
        timeout_s=timeout,
    )
    report = run_chaos(options)
    data = report.as_dict()
    if json_file is not None and str(json_file) == "-":
        json.dump(data, sys.stdout, indent=2, default=str)
        print()
    else:
        _print(data)
        if json_file is not None:
            json_file.write_text(json.dumps(data, indent=2, default=str))
    if not report.ok:
        raise typer.Exit(1)


def _print(data: dict[str, Any]) -> None:
    title = (
        f"revbridge chaos — {data['deals']} deals, {data['workers']} worker(s), {data['database']}"
    )
    table = Table("invariant", "checked", "violations", "", title=title)
    for check in data["checks"]:
        table.add_row(
            check["name"],
            str(check["checked"]),
            str(len(check["violations"])),
            "[green]ok[/green]" if check["ok"] else "[red]VIOLATED[/red]",
        )
    out.print(table)
    for check in data["checks"]:
        for line in check["violations"][:10]:
            out.print(f"  [red]✗[/red] {check['name']}: {line}", soft_wrap=True)
    out.print(_statistics(data))
    out.print(
        f"{data['settled']} of {data['deals']} deals settled in {data['seconds']} s: "
        f"{data['activated']} activated, {sum(data['held'].values())} holding a case",
        soft_wrap=True,
    )
    verdict = "[green]all invariants hold[/green]" if data["ok"] else "[red]VIOLATED[/red]"
    logs = f" (workers' logs in {data['workdir']})" if data["workdir"] else ""
    out.print(f"{verdict}{logs}", soft_wrap=True)


def _statistics(data: dict[str, Any]) -> Table:
    injected, relay, replayed = data["injected"], data["relay"], data["replayed"]
    collected = data["collected"]
    kills = ", ".join(
        f"{k['executor_id']} at {k['at_s']} s ({k['settled']} settled)" for k in data["kills"]
    )
    rows = {
        "5xx injected": injected["server_errors"],
        "429 injected": injected["rate_limited"],
        "answers dropped after commit": injected["dropped"],
        "faults by sandbox": json.dumps(injected["by_sandbox"]),
        "pushes duplicated / reordered by the CRM": f"{relay.get('duplicated', 0)} / "
        f"{relay.get('reordered', 0)}",
        "pushes failed (worker down) / given up": f"{relay.get('failed_attempts', 0)} / "
        f"{relay.get('given_up', 0)}",
        "change events replayed (acknowledged)": f"{replayed['sent']} "
        f"({replayed['acknowledged']}: {replayed['recorded_new']} new, "
        f"{replayed['recorded_duplicate']} duplicate)",
        "duplicates suppressed by the inbox": data["duplicates_suppressed"],
        "invoices billed / paid (a card declined first)": f"{collected['invoices']} / "
        f"{collected['paid']} ({collected['declined_first']})",
        "workers killed": f"{len(data['kills'])}: {kills}" if kills else "0",
        "open cases by class": json.dumps(data["held"]),
        "open invoice cases by class": json.dumps(data["held_invoices"]),
        "deals without a defect holding a case": "\n".join(data["held_clean"]) or "0",
        "phases (s)": json.dumps(data["phases"]),
        "machine": data["machine"],
    }
    table = Table("fault and recovery statistics", "", title=None)
    for key, value in rows.items():
        table.add_row(key, str(value))
    return table
