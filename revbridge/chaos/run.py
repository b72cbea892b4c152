"""One chaos run: seed, break things while deals flow, wait until every deal settles, check.

The order of events: the four sandboxes start in their own processes; the book of business
is seeded (a share of deals with defects); ``W`` workers start; faults are switched on; every
deal is closed in the CRM while the relay pushes duplicated and reordered change events and
the workers also pull the change feed; once the closes are done a shuffled share of the
closed-won events is delivered again; workers are SIGKILLed ``K`` times and restarted. When
every deal has settled, billing's clock passes every contract's start so invoices post, and
customers pay them (a share after a declined card); once every invoice and payment is
carried or held by a case (or the timeout passed), the workers are stopped, the evidence is
read and the invariants checked.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from revbridge.app import open_store
from revbridge.bench.estate import sandbox_processes
from revbridge.cases.model import CaseState
from revbridge.chaos.billing import Collected, bill_and_collect, pending
from revbridge.chaos.deliveries import Replayed, Replayer
from revbridge.chaos.evidence import Evidence, gather
from revbridge.chaos.faults import FaultRates, Injected, fault_plan
from revbridge.chaos.invariants import Check, check_all
from revbridge.chaos.workers import Kill, KillPlan, WorkerProcess, stop_all, wait_listening
from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.load import load_policy
from revbridge.config.settings import Settings
from revbridge.flows.runtime import workflow_statuses
from revbridge.store import cases, deals
from revbridge.testing.estate import SANDBOX_ENV, LocalEstate
from revbridge.testing.servers import free_port
from revbridge_sandboxes.seed import SalesforceSeeder, seed_estate

#: Called after the run and before the evidence is read; tests use it to break the estate.
Tamper = Callable[[LocalEstate, Engine], None]


@dataclass(frozen=True)
class ChaosOptions:
    deals: int = 300
    database_url: str | None = None
    workers: int | None = None
    kills: int = 3
    defects: float = 0.05
    rates: FaultRates = field(default_factory=FaultRates)
    seed: int = 7
    timeout_s: float | None = None
    concurrency: int = 32

    @property
    def postgres(self) -> bool:
        return bool(self.database_url and self.database_url.startswith("postgres"))

    def worker_count(self) -> int:
        return self.workers or (2 if self.postgres else 1)

    def timeout(self) -> float:
        return self.timeout_s or 120 + self.deals * 1.0


@dataclass
class ChaosReport:
    deals: int
    workers: int
    database: str
    seconds: float
    settled: int
    activated: int
    held: dict[str, int]  # open cases of deals by failure class
    held_invoices: dict[str, int]  # open cases of invoices by failure class
    held_clean: list[str]  # deals seeded without a defect that hold a case: which, and why
    checks: list[Check]
    injected: Injected
    kills: list[Kill]
    replayed: Replayed
    collected: Collected
    relay: dict[str, Any]
    duplicates_suppressed: int
    workdir: str = ""
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds of each phase
    machine: str = field(default_factory=lambda: f"{os.cpu_count()} CPUs")

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks) and self.settled == self.deals

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["checks"] = [{**asdict(c), "ok": c.ok} for c in self.checks]
        data["ok"] = self.ok
        return data


def run_chaos(options: ChaosOptions, tamper: Tamper | None = None) -> ChaosReport:
    """Run the whole scenario and return what the invariants say."""
    from revbridge.cli.sandbox import catalog_from_policy

    began = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="revbridge-chaos-"))
    url = options.database_url or f"sqlite:///{workdir / 'revbridge.db'}"
    engine = open_store(Settings(database_url=url))
    _require_empty(engine)
    catalog = catalog_from_policy(load_policy(EXAMPLE_POLICY))
    cdc = {"salesforce": {"cdc_retention": max(100_000, options.deals * 30)}}
    with sandbox_processes("zero-latency", cdc) as estate:
        policy = estate.write_policy(workdir / "revbridge.yaml")
        manifest = seed_estate(
            estate.endpoints(), catalog, options.deals, options.seed, options.defects
        )
        seeded = time.monotonic()
        env = {**os.environ, **SANDBOX_ENV, "REVBRIDGE_DATABASE_URL": url}
        fleet = [
            WorkerProcess(
                i, policy, env, free_port(), workdir / f"worker-{i}.log", options.concurrency
            )
            for i in range(options.worker_count())
        ]
        try:
            report = _drive(options, estate, engine, fleet, manifest.deals)
            drove = time.monotonic()
            evidence = _settle_and_read(estate, engine, url, fleet, manifest.deals, tamper)
        finally:
            stop_all(fleet)
            engine.dispose()
    _conclude(report, evidence)
    report.phases = {
        "sandboxes up and book seeded": round(seeded - began, 1),
        "workers up, deals closed, all settled": round(drove - seeded, 1),
        "workflows finished, workers stopped, evidence read": round(time.monotonic() - drove, 1),
    }
    if report.ok:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        report.workdir = str(workdir)  # kept: the workers' logs and the policy
    return report


def _conclude(report: ChaosReport, evidence: Evidence) -> None:
    report.checks = check_all(evidence)
    report.injected = Injected.from_counts(evidence.faults)
    report.relay = evidence.cdc_delivery
    report.duplicates_suppressed = evidence.duplicates_suppressed
    report.activated = sum(d.status.value == "activated" for d in evidence.deals.values())
    every_open = [c for cs in evidence.cases.values() for c in cs if c.state == CaseState.OPEN]
    deals_closed = {f"salesforce:{o}" for o in evidence.closed}
    open_cases = [c for c in every_open if c.deal_key in deals_closed]
    report.held = dict(Counter(c.failure_class for c in open_cases))
    report.held_invoices = dict(
        Counter(c.failure_class for c in every_open if c.deal_key not in deals_closed)
    )
    clean = {f"salesforce:{o}" for o, defect in evidence.closed.items() if defect is None}
    report.held_clean = [
        f"{c.deal_key}: {c.failure_class} — {c.message[:120]}"
        for c in open_cases
        if c.deal_key in clean
    ]


def _require_empty(engine: Engine) -> None:
    with engine.connect() as conn:
        if deals.by_status(conn, limit=1):
            raise RuntimeError(
                "the database already holds deals: a chaos run needs a fresh database"
            )


def _count_settled(engine: Engine) -> int:
    from sqlalchemy import func, select

    from revbridge.store.tables import deals as table

    done = (deals.Status.ACTIVATED.value, deals.Status.EXCEPTION.value)
    with engine.connect() as conn:
        query = select(func.count()).select_from(table).where(table.c.status.in_(done))
        return int(conn.execute(query).scalar_one())


def _close_all(closer: SalesforceSeeder, opportunities: list[str]) -> None:
    """A sales team closing deals, one update each, as fast as it can."""
    for opportunity in opportunities:
        closer.update("Opportunity", opportunity, {"StageName": "Closed Won"})


def _start(options: ChaosOptions, estate: LocalEstate, fleet: list[WorkerProcess]) -> None:
    """Workers up and subscribed to pushed change events; then the faults go on."""
    salesforce = estate.urls["salesforce"]
    for worker in fleet:
        worker.start()
        httpx.post(
            f"{salesforce}/_sandbox/cdc/subscribers",
            json={
                "url": worker.webhook_url,
                "secret": SANDBOX_ENV["SF_CDC_WEBHOOK_SECRET"],
                "entities": ["Opportunity"],
            },
            timeout=30,
        ).raise_for_status()
    wait_listening(fleet)
    for name, config in fault_plan(options.rates, options.seed).items():
        httpx.put(
            f"{estate.urls[name]}/_sandbox/faults", json=config, timeout=30
        ).raise_for_status()


def _drive(
    options: ChaosOptions,
    estate: LocalEstate,
    engine: Engine,
    fleet: list[WorkerProcess],
    closed: dict[str, str | None],
) -> ChaosReport:
    """Close every deal, replay duplicates, kill and restart workers until all settled."""
    closer = SalesforceSeeder(estate.endpoints())  # its token is taken before faults start
    _start(options, estate, fleet)
    plan = KillPlan(options.kills, options.deals, random.Random(options.seed * 31 + 1))
    replayer = Replayer(
        estate.urls["salesforce"],
        fleet,
        options.rates.duplicates,
        SANDBOX_ENV["SF_CDC_WEBHOOK_SECRET"],
        random.Random(options.seed * 31 + 2),
    )
    closing = threading.Thread(
        target=_close_all, args=(closer, list(closed)), name="chaos-closer", daemon=True
    )
    started = time.monotonic()
    closing.start()
    settled, settled_s = 0, None
    while time.monotonic() - started < options.timeout():
        now = time.monotonic() - started
        settled = _count_settled(engine)
        if settled >= options.deals and settled_s is None:
            settled_s = now
        plan.step(now, settled, fleet)
        if not closing.is_alive() and not replayer.started:
            replayer.start()
        if settled_s is not None and plan.complete and replayer.finished:
            break
        time.sleep(0.2)
    plan.finish(time.monotonic() - started)
    replayer.join()
    return ChaosReport(
        deals=options.deals,
        workers=len(fleet),
        database="postgresql" if options.postgres else "sqlite",
        seconds=round(settled_s if settled_s is not None else time.monotonic() - started, 2),
        settled=settled,
        activated=0,
        held={},
        held_invoices={},
        held_clean=[],
        checks=[],
        injected=Injected(0, 0, 0, {}),
        kills=plan.done,
        replayed=replayer.result,
        collected=_bill(options, estate, engine),
        relay={},
        duplicates_suppressed=0,
    )


def _bill(options: ChaosOptions, estate: LocalEstate, engine: Engine) -> Collected:
    """Billing's clock passes every contract's start; customers pay (some declined first);
    then wait until every invoice and payment is carried or held by a case."""
    rng = random.Random(options.seed * 31 + 3)
    collected = bill_and_collect(
        estate.urls["stripe"], SANDBOX_ENV["STRIPE_API_KEY"], rng, options.rates.declines
    )
    deadline = time.monotonic() + options.timeout()
    while time.monotonic() < deadline and pending(engine, collected):
        time.sleep(1)
    return collected


def _quiesce(url: str, engine: Engine, fleet: list[WorkerProcess], grace_s: float = 60) -> None:
    """Give the last workflows the moment they need to record their end after their deal's
    last step (every other run of an invoice too: it reads the invoice and finds its work
    done), and every restarted worker time to come up."""
    wait_listening([w for w in fleet if w.alive()])
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        statuses = workflow_statuses(url)
        with engine.connect() as conn:
            done = deals.by_status(conn, deals.Status.ACTIVATED, limit=10_000_000)
            held = {c.deal_key for c in cases.search(conn, limit=10_000_000)}
        running = [
            w
            for w, status in statuses.items()
            if w.startswith("receivables:")
            and status in ("PENDING", "ENQUEUED")
            and w.split(":", 1)[1].rsplit(":", 1)[0] not in held
        ]
        if not running and all(statuses.get(d.workflow_id) == "SUCCESS" for d in done):
            return
        time.sleep(1)


def _settle_and_read(
    estate: LocalEstate,
    engine: Engine,
    url: str,
    fleet: list[WorkerProcess],
    closed: dict[str, str | None],
    tamper: Tamper | None,
) -> Evidence:
    _quiesce(url, engine, fleet)
    stop_all(fleet)
    if tamper is not None:
        tamper(estate, engine)
    return gather(estate.urls, engine, workflow_statuses(url), closed)
