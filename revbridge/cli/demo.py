"""``revbridge demo``: the whole quote-to-cash story on SQLite and the built-in sandboxes.

Starts the four sandboxes, seeds a book of business (a fraction with real-world defects),
closes every deal in the CRM sandbox, lets revbridge pick the changes up and run the
flows, then moves billing's clock past every contract's start so invoices post, and has
customers pay them (a tenth with a card that is declined). It shows progress, and prints
(and optionally writes as JSON) what happened — deals, cases, invoices posted, carried to
the ERP, tax and CRM, paid and failed, days sales outstanding — and the commands to look
further: the exception queue and the console on the demo's database.

Everything goes into ``--workdir``: the policy, the database and the run's log (so log
lines never cut through the progress bar). A directory holding anything else than a
previous demo's files is refused unless ``--force``, and even then only the demo's own
files in it are replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from revbridge.config.policy import Policy
from revbridge.config.settings import Settings
from revbridge.observability.business_metrics import percentile
from revbridge.observability.logging import configure_logging

out = Console(highlight=False)
POLICY_FILE, DATABASE_FILE, LOG_FILE = "revbridge.yaml", "revbridge.db", "demo.log"
#: Every file a demo run writes into its workdir (SQLite keeps -wal/-shm/-journal beside
#: revbridge's and DBOS's databases); a directory holding only these is a previous demo's.
DEMO_FILES = frozenset(
    {POLICY_FILE, LOG_FILE}
    | {
        f"{database}{suffix}"
        for database in (DATABASE_FILE, "revbridge.dbos.db")
        for suffix in ("", "-wal", "-shm", "-journal")
    }
)


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
    workdir: Path = typer.Option(
        Path("demo"), help="Where the demo's database, policy and log go (new or a demo's)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Use a --workdir holding other files (they are left alone)."
    ),
    timeout: float = typer.Option(600, help="Give up waiting after this many seconds."),
) -> None:
    """Run the quote-to-cash demo on SQLite and the built-in sandboxes."""
    _prepare(workdir, force)
    for name, value in _sandbox_env().items():
        os.environ.setdefault(name, value)
    with (workdir / LOG_FILE).open("w", encoding="utf-8") as log:
        try:
            summary = asyncio.run(_run(deals, defects, seed, workdir, keep_running, timeout, log))
        finally:
            configure_logging(Settings().log_level)  # back on stderr before the file closes
    _print_summary(summary)
    _print_next_steps(summary)
    if json_file is not None:
        json_file.write_text(json.dumps(summary, indent=2, default=str))
        out.print(f"summary written to {json_file}")
    if summary["deals_held"] + summary["activated"] < summary["deals"]:
        raise typer.Exit(1)


def _prepare(workdir: Path, force: bool) -> None:
    """Make ``workdir`` ready: created when new, emptied of a previous demo's files; a
    directory holding anything else is refused (``--force``: used, its other files kept)."""
    if workdir.exists() and not workdir.is_dir():
        raise typer.BadParameter(f"{workdir} is a file", param_hint="--workdir")
    others: list[str] = []
    if workdir.exists():
        others = sorted(p.name for p in workdir.iterdir() if p.name not in DEMO_FILES)
    if others and not force:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise typer.BadParameter(
            f"{workdir} holds files that are not a previous demo's ({shown}); choose a new "
            "or empty directory, or pass --force to run there (only the demo's own files "
            "are replaced)",
            param_hint="--workdir",
        )
    workdir.mkdir(parents=True, exist_ok=True)
    for name in DEMO_FILES:
        if (workdir / name).is_file():
            (workdir / name).unlink()


def _sandbox_env() -> dict[str, str]:
    from revbridge.testing.estate import SANDBOX_ENV

    return SANDBOX_ENV


def _free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def _run(
    deals: int,
    defects: float,
    seed: int,
    workdir: Path,
    keep_running: bool,
    limit_s: float,
    log: IO[str],
) -> dict[str, Any]:
    from revbridge.app import build, run_worker
    from revbridge.cli.sandbox import catalog_from_policy
    from revbridge.flows import runtime
    from revbridge.testing.estate import local_estate
    from revbridge_sandboxes.registry import available
    from revbridge_sandboxes.seed import close_deals, seed_estate

    ports = {n: s.default_port for n, s in available().items() if _free(s.default_port)}
    with local_estate(ports=ports, options={"netsuite": {"approval_delay_s": 0.3}}) as estate:
        # Every record to the run's log, not across the progress bar (set once the
        # sandboxes' servers have configured uvicorn's loggers, which they do on start).
        configure_logging(Settings().log_level, stream=log)
        for name, url in estate.urls.items():
            out.print(f"sandbox {name:<11} {url}")
        policy_path = estate.write_policy(workdir / POLICY_FILE)
        settings = Settings(database_url=_database_url(workdir))
        app = build(settings, policy_path, erp_poll_s=0.3)
        print_estate(app.policy)
        stop = asyncio.Event()
        worker = asyncio.create_task(
            run_worker(app, stop, concurrency=32, poll_s=0.2, billing_poll_s=0.5)
        )
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
        collected = await _bill(estate.urls, app.engine, seed, limit_s)
        summary = _summary(app.engine, manifest.deals, counts, elapsed)
        summary["receivables"] = await asyncio.to_thread(_receivables, app.engine, collected)
        summary.update(
            database_url=_database_url(workdir),
            policy_file=str(policy_path.resolve()),
            log_file=str((workdir / LOG_FILE).resolve()),
        )
        if keep_running:
            out.print("everything is up; press Ctrl-C to stop")
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
        stop.set()
        await worker
        return summary


#: Share of customers whose card is declined in the demo (their invoices stay unpaid).
DECLINES = 0.1


async def _bill(urls: dict[str, str], engine: Any, seed: int, limit_s: float) -> Any:
    """Billing's clock passes every contract's start: invoices post; customers pay, a few
    with a card that is declined. Waits until every invoice is carried or held by a case."""
    import random

    from revbridge.chaos.billing import bill_and_collect, pending
    from revbridge.testing.estate import SANDBOX_ENV

    out.print("billing's clock passes every contract's start; customers pay their invoices…")
    collected = await asyncio.to_thread(
        bill_and_collect,
        urls["stripe"],
        SANDBOX_ENV["STRIPE_API_KEY"],
        random.Random(seed),
        DECLINES,
        pay_declined=False,
    )
    deadline = time.monotonic() + limit_s
    with Progress(TextColumn("{task.description}"), TimeElapsedColumn(), console=out) as bar:
        task = bar.add_task("invoices and payments to the ERP, tax and CRM")
        while time.monotonic() < deadline:
            waiting = await asyncio.to_thread(pending, engine, collected)
            bar.update(task, description=f"invoices still being carried: {len(waiting)}")
            if not waiting:
                break
            await asyncio.sleep(0.5)
    return collected


def _receivables(engine: Any, collected: Any) -> dict[str, Any]:
    """What billing did and what revbridge carried: invoices, payments, failures, DSO."""
    from revbridge.service import figures

    carried = figures.receivables(engine)
    return {
        "invoices_billed": collected.invoices,
        "invoices_paid_by_customers": collected.paid,
        "payments_declined": collected.declined_first,
        **carried,
    }


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


def _database_url(workdir: Path) -> str:
    """The demo's database, by absolute path: the printed commands work from anywhere."""
    return f"sqlite:///{(workdir / DATABASE_FILE).resolve()}"


def _all_deals(engine: Any) -> list[Any]:
    from revbridge.service import deals

    return deals.search(engine, limit=100_000)


def _summary(
    engine: Any, manifest: dict[str, str | None], counts: Counter[str], elapsed: float
) -> dict[str, Any]:
    from revbridge.service import cases

    rows = _all_deals(engine)
    open_cases = cases.listed(engine, limit=100_000)
    q2o = [
        (d.accepted_at - d.closed_at).total_seconds() for d in rows if d.accepted_at and d.closed_at
    ]
    deal_keys = {d.deal_key for d in rows}
    by_owner: Counter[str] = Counter(c.owner for c in open_cases)
    by_reason: Counter[str] = Counter(c.failure_class for c in open_cases)
    expected = Counter(v for v in manifest.values() if v)
    return {
        "deals": len(manifest),
        "activated": counts["activated"],
        "open_cases": len(open_cases),  # deals' and invoices'
        "deals_held": sum(c.deal_key in deal_keys for c in open_cases),
        "exceptions_by_owner": dict(by_owner),
        "exceptions_by_reason": dict(by_reason),
        "defects_seeded": dict(expected),
        "seconds": round(elapsed, 2),
        "deals_per_s": round(len(manifest) / elapsed, 2) if elapsed else None,
        "quote_to_order_p50_s": _rounded(percentile(q2o, 50)),
        "quote_to_order_p95_s": _rounded(percentile(q2o, 95)),
    }


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(title="Quote-to-cash demo", show_header=False)
    table.add_column("what")
    table.add_column("figure", justify="right")
    table.add_row("deals closed", str(summary["deals"]))
    table.add_row(
        "activated (ERP order accepted, billing live, CRM updated)", str(summary["activated"])
    )
    table.add_row("deals held by an exception", str(summary["deals_held"]))
    table.add_row(
        "exceptions waiting for an owner (deals' and invoices')", str(summary["open_cases"])
    )
    for owner, count in sorted(summary["exceptions_by_owner"].items()):
        table.add_row(f"  owned by {owner}", str(count))
    for reason, count in sorted(summary["exceptions_by_reason"].items()):
        table.add_row(f"  reason {reason}", str(count))
    table.add_row(
        "quote-to-order p50 / p95",
        f"{summary['quote_to_order_p50_s']} s / {summary['quote_to_order_p95_s']} s",
    )
    table.add_row("wall time", f"{summary['seconds']} s ({summary['deals_per_s']} deals/s)")
    money = summary.get("receivables")
    if money:
        table.add_row("invoices posted by billing", str(money["invoices_posted"]))
        table.add_row(
            "  carried to the ERP (invoice), tax (committed) and CRM", str(money["erp_invoices"])
        )
        table.add_row("invoices paid (one ERP payment each)", str(money["invoices_paid"]))
        table.add_row(
            "payments failed (a finance_ops case each, the CRM shows it)",
            str(money["payment_cases"]),
        )
        for key, days in sorted(money["days_sales_outstanding"].items()):
            table.add_row(f"  days sales outstanding {key}", str(days))
    out.print(table)


def _print_next_steps(summary: dict[str, Any]) -> None:
    """What to do next, as commands to paste: on the demo's database, from any directory."""
    env = f"REVBRIDGE_DATABASE_URL={summary['database_url']}"
    lines = [
        "Next:",
        f"  the exceptions:  {env} revbridge exceptions list",
        f"  the console:     {env} revbridge users create --role admin --username admin "
        '--name "Demo admin"',
        f"                   {env} revbridge serve --policy {summary['policy_file']}",
        "                   then open http://127.0.0.1:8700/console/ and sign in",
        f"  the run's log:   {summary['log_file']}",
    ]
    for line in lines:
        out.print(line, markup=False, soft_wrap=True)
