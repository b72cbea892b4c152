"""``revbridge bench``: throughput and latency of the whole flow against the sandboxes."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

out = Console(highlight=False)


def bench(
    deals: int = typer.Option(100, "--deals", help="Deals to book."),
    profile: str = typer.Option("zero-latency", help="zero-latency or realistic."),
    workers: int = typer.Option(1, help="Worker processes."),
    database_url: str | None = typer.Option(None, help="Default: a fresh SQLite file."),
    concurrency: int = typer.Option(32, help="Deals each worker runs at once."),
    baseline: bool = typer.Option(True, help="Also run the no-orchestration baseline."),
    json_file: Path | None = typer.Option(None, "--json", help="Write the result here."),
    timeout: float = typer.Option(900, help="Give up after this many seconds."),
) -> None:
    """Book DEALS through the whole flow and report deals/s, latency, calls, 429s, RSS."""
    from revbridge.bench.estate import PROFILES
    from revbridge.bench.run import run_baseline, run_bench

    if profile not in PROFILES:
        raise typer.BadParameter(f"profile must be one of {PROFILES}")
    result = run_bench(profile, deals, workers, database_url, concurrency, timeout)
    if baseline:
        result.baseline_seconds = round(run_baseline(profile, deals, concurrency * workers), 2)
        result.ratio_to_baseline = round(result.seconds / result.baseline_seconds, 2)
    table = Table(
        "",
        "",
        title=f"revbridge bench — {profile}, {deals} deals, {workers} worker(s), {result.database}",
    )
    for key, value in result.as_dict().items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict) else str(value))
    out.print(table)
    print(json.dumps(result.as_dict()))
    if json_file is not None:
        json_file.write_text(json.dumps(result.as_dict(), indent=2))
