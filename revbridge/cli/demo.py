"""``revbridge demo``: the whole quote-to-cash story on SQLite and the built-in sandboxes.

Starts the four sandboxes, seeds a book of business (a fraction with real-world defects),
closes every deal in the CRM sandbox, lets revbridge pick the changes up and run the
flows, shows progress, and prints (and optionally writes as JSON) what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from revbridge.config.policy import Policy
from revbridge.config.settings import Settings

out = Console(highlight=False)
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_POLICY = ROOT / "examples" / "revbridge.yaml"


def print_estate(policy: Policy) -> None:
    """Summarise the estate a policy describes: systems, entities and products."""
    entities = Table(
        "entity",
        "name",
        "currency",
        "ERP subsidiary",
        "tax nexus",
        title=f"{policy.company or 'Estate'}: legal entities",
    )
    for code, entity in policy.legal_entities.items():
        entities.add_row(
            code,
            entity.name,
            entity.functional_currency,
            entity.erp_subsidiary,
            ", ".join(entity.tax_nexus),
        )
    products = Table("sku", "kind", "ERP item", "prices", title="Products")
    for sku, product in policy.products.items():
        prices = ", ".join(f"{c} {a}" for c, a in product.billing.prices.items())
        products.add_row(sku, product.kind, product.erp_item, prices)
    out.print(entities)
    out.print(products)


def demo(
    deals: int = typer.Option(200, "--deals", help="Deals to seed and close."),
    defects: float = typer.Option(0.1, "--defects", help="Fraction of deals with a defect."),
    seed: int = typer.Option(7, "--seed", help="Seed of the book of business."),
    json_file: Path | None = typer.Option(None, "--json", help="Write the summary here."),
    keep_running: bool = typer.Option(False, "--keep-running", help="Leave everything up."),
    workdir: Path = typer.Option(Path("demo"), help="Where the demo database and policy go."),
    timeout: float = typer.Option(600, help="Give up waiting after this many seconds."),
) -> None:
    """Run the quote-to-cash demo on SQLite and the built-in sandboxes."""
    for name, value in _sandbox_env().items():
        os.environ.setdefault(name, value)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    summary = asyncio.run(_run(deals, defects, seed, workdir, keep_running, timeout))
    _print_summary(summary)
    if json_file is not None:
        json_file.write_text(json.dumps(summary, indent=2, default=str))
        out.print(f"summary written to {json_file}")
    if summary["open_cases"] + summary["activated"] < summary["deals"]:
        raise typer.Exit(1)


def _sandbox_env() -> dict[str, str]:
    from revbridge.testing.estate import SANDBOX_ENV

    return SANDBOX_ENV


def _free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def _run(
    deals: int, defects: float, seed: int, workdir: Path, keep_running: bool, limit_s: float
) -> dict[str, Any]:
    from revbridge.app import build, run_worker
    from revbridge.cli.sandbox import catalog_from_policy
    from revbridge.flows import runtime
    from revbridge.sandboxes.registry import available
    from revbridge.sandboxes.seed import close_deals, seed_estate
    from revbridge.testing.estate import local_estate

    ports = {n: s.default_port for n, s in available().items() if _free(s.default_port)}
    with local_estate(ports=ports, options={"netsuite": {"approval_delay_s": 0.3}}) as estate:
        for name, url in estate.urls.items():
            out.print(f"sandbox {name:<11} {url}")
        policy_path = estate.write_policy(workdir / "revbridge.yaml")
        settings = Settings(database_url=f"sqlite:///{workdir / 'revbridge.db'}")
        app = build(settings, policy_path, erp_poll_s=0.3)
        print_estate(app.policy)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(app, stop, concurrency=32, poll_s=0.2))
        catalog = catalog_from_policy(app.policy)
        out.print(f"seeding {deals} deals ({defects:.0%} with defects)…")
        manifest = await asyncio.to_thread(
            seed_estate, estate.endpoints(), catalog, deals, seed, defects
        )
        started = time.monotonic()
        await asyncio.to_thread(close_deals, estate.endpoints(), list(manifest.deals))
        out.print(f"closed {deals} deals in the CRM sandbox; revbridge is booking them")
        counts = await _follow(app.engine, deals, limit_s)
        elapsed = time.monotonic() - started
        activated = [d.workflow_id for d in await asyncio.to_thread(_all_deals, app.engine)
                     if d.status.value == "activated"]  # fmt: skip
        await runtime.wait_finished(activated, timeout_s=30)
        summary = _summary(app.engine, manifest.deals, counts, elapsed)
        if keep_running:
            out.print("everything is up; press Ctrl-C to stop")
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
        stop.set()
        await worker
        return summary


async def _follow(engine: Any, total: int, limit_s: float) -> Counter[str]:
    counts: Counter[str] = Counter()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    deadline = time.monotonic() + limit_s
    with Progress(*columns, console=out) as progress:
        task = progress.add_task("deals settled", total=total)
        while time.monotonic() < deadline:
            rows = await asyncio.to_thread(_all_deals, engine)
            counts = Counter(d.status.value for d in rows)
            settled = counts["activated"] + counts["exception"]
            progress.update(
                task,
                completed=settled,
                description=f"activated {counts['activated']}, exceptions {counts['exception']}",
            )
            if settled >= total:
                break
            await asyncio.sleep(0.25)
    return counts


def _all_deals(engine: Any) -> list[Any]:
    from revbridge.store import deals as deal_store

    with engine.connect() as conn:
        return deal_store.by_status(conn, limit=100_000)


def _summary(
    engine: Any, manifest: dict[str, str | None], counts: Counter[str], elapsed: float
) -> dict[str, Any]:
    from revbridge.store import cases

    rows = _all_deals(engine)
    with engine.connect() as conn:
        open_cases = cases.search(conn, limit=100_000)
    q2o = sorted(
        (d.accepted_at - d.closed_at).total_seconds() for d in rows if d.accepted_at and d.closed_at
    )
    by_owner: Counter[str] = Counter(c.owner for c in open_cases)
    by_reason: Counter[str] = Counter(c.failure_class for c in open_cases)
    expected = Counter(v for v in manifest.values() if v)
    return {
        "deals": len(manifest),
        "activated": counts["activated"],
        "open_cases": len(open_cases),
        "exceptions_by_owner": dict(by_owner),
        "exceptions_by_reason": dict(by_reason),
        "defects_seeded": dict(expected),
        "seconds": round(elapsed, 2),
        "deals_per_s": round(len(manifest) / elapsed, 2) if elapsed else None,
        "quote_to_order_p50_s": round(statistics.median(q2o), 3) if q2o else None,
        "quote_to_order_p95_s": round(q2o[int(len(q2o) * 0.95) - 1 if len(q2o) > 1 else 0], 3)
        if q2o
        else None,
    }


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table("", "", title="Quote-to-cash demo")
    table.add_row("deals closed", str(summary["deals"]))
    table.add_row(
        "activated (ERP order accepted, billing live, CRM updated)", str(summary["activated"])
    )
    table.add_row("exceptions waiting for an owner", str(summary["open_cases"]))
    for owner, count in sorted(summary["exceptions_by_owner"].items()):
        table.add_row(f"  owned by {owner}", str(count))
    for reason, count in sorted(summary["exceptions_by_reason"].items()):
        table.add_row(f"  reason {reason}", str(count))
    table.add_row(
        "quote-to-order p50 / p95",
        f"{summary['quote_to_order_p50_s']} s / {summary['quote_to_order_p95_s']} s",
    )
    table.add_row("wall time", f"{summary['seconds']} s ({summary['deals_per_s']} deals/s)")
    out.print(table)
