"""One benchmark: seed N deals, close them at once, measure until every deal is activated."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from revbridge.app import open_store
from revbridge.bench.estate import responses, sandbox_processes
from revbridge.config.load import load_policy
from revbridge.config.settings import Settings
from revbridge.store import deals
from revbridge.testing.estate import SANDBOX_ENV
from revbridge_sandboxes.seed import close_deals, seed_estate

REVBRIDGE = str(Path(sys.executable).with_name("revbridge"))


@dataclass
class BenchResult:
    profile: str
    deals: int
    workers: int
    database: str
    seconds: float
    deals_per_s: float
    latency_p50_s: float
    latency_p95_s: float
    latency_p99_s: float
    calls_per_deal: dict[str, float]
    http_429: int
    peak_rss_mb: float
    baseline_seconds: float | None = None
    ratio_to_baseline: float | None = None
    machine: str = field(default_factory=lambda: f"{os.cpu_count()} CPUs")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] if ordered else 0.0


def _delta(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for name, statuses in after.items():
        for status, n in statuses.items():
            total[f"{name}:{status}"] += n - before.get(name, {}).get(status, 0)
    return total


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_bench(
    profile: str, n: int, workers: int, database_url: str | None, concurrency: int, timeout_s: float
) -> BenchResult:
    from revbridge.cli.sandbox import catalog_from_policy
    from revbridge.config.example import EXAMPLE_POLICY

    catalog = catalog_from_policy(load_policy(EXAMPLE_POLICY))
    workdir = Path(tempfile.mkdtemp(prefix="revbridge-bench-"))
    url = database_url or f"sqlite:///{workdir / 'revbridge.db'}"
    with sandbox_processes(profile) as estate:
        policy = estate.write_policy(workdir / "revbridge.yaml")
        manifest = seed_estate(estate.endpoints(), catalog, n, seed=11, defect_rate=0.0)
        env = {**os.environ, **SANDBOX_ENV, "REVBRIDGE_DATABASE_URL": url}
        procs = [
            subprocess.Popen(
                [
                    REVBRIDGE,
                    "worker",
                    "--policy",
                    str(policy),
                    "--poll",
                    "0.1",
                    "--concurrency",
                    str(concurrency),
                ],
                env={**env, "DBOS__VMID": f"bench-{i}"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for i in range(workers)
        ]
        try:
            engine = open_store(Settings(database_url=url))
            time.sleep(3)  # workers up
            before = responses(estate)
            started = time.monotonic()
            close_deals(estate.endpoints(), list(manifest.deals))
            rows = _wait_all(engine, n, timeout_s)
            seconds = time.monotonic() - started
            after = responses(estate)
            rss = max(_peak_rss_mb(p.pid) for p in procs)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(30)
    latencies = [
        (d.activated_at - d.closed_at).total_seconds()
        for d in rows
        if d.activated_at and d.closed_at
    ]
    delta = _delta(before, after)
    calls: Counter[str] = Counter()
    for key, count in delta.items():
        calls[key.split(":")[0]] += count
    calls["salesforce"] -= n  # the close of each deal is the benchmark's, not revbridge's
    return BenchResult(
        profile=profile,
        deals=n,
        workers=workers,
        database="postgresql" if url.startswith("postgres") else "sqlite",
        seconds=round(seconds, 2),
        deals_per_s=round(n / seconds, 2),
        latency_p50_s=round(_percentile(latencies, 0.5), 3),
        latency_p95_s=round(_percentile(latencies, 0.95), 3),
        latency_p99_s=round(_percentile(latencies, 0.99), 3),
        calls_per_deal={k: round(v / n, 2) for k, v in sorted(calls.items())},
        http_429=sum(v for k, v in delta.items() if k.endswith(":429")),
        peak_rss_mb=round(rss, 1),
    )


def _wait_all(engine: Any, n: int, timeout_s: float) -> list[deals.Deal]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            rows = deals.by_status(conn, limit=n + 10)
        done = [d for d in rows if d.status.value in ("activated", "exception")]
        if len(done) >= n:
            return rows
        time.sleep(0.2)
    raise TimeoutError(f"only {len(done)} of {n} deals settled in {timeout_s} s")


def run_baseline(profile: str, n: int, concurrency: int) -> float:
    """The same API calls, through the same connectors, with no orchestration; seconds."""
    from revbridge.bench.baseline import book_all
    from revbridge.cli.sandbox import catalog_from_policy
    from revbridge.config.example import EXAMPLE_POLICY

    catalog = catalog_from_policy(load_policy(EXAMPLE_POLICY))
    workdir = Path(tempfile.mkdtemp(prefix="revbridge-baseline-"))
    with sandbox_processes(profile) as estate:
        policy_path = estate.write_policy(workdir / "revbridge.yaml")
        manifest = seed_estate(estate.endpoints(), catalog, n, seed=11, defect_rate=0.0)
        close_deals(estate.endpoints(), list(manifest.deals))
        return asyncio.run(book_all(policy_path, list(manifest.deals), concurrency))
