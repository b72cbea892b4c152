"""Sandbox throughput: each sandbox serves simple requests in its own process.

Run with ``make bench`` or ``python -m benchmarks.sandboxes [--seconds S] [--runs N]``.
Each sandbox is started alone under uvicorn (one process), one record is created
through its API, then a raw-socket client reads it by id over 8 keep-alive connections.
Prints requests/s (median of the runs) and latency percentiles, and a JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import statistics
from collections.abc import Callable
from typing import Any

import httpx

from benchmarks.load import run_load
from revbridge.bench.estate import start_sandbox, wait_up
from revbridge.testing.estate import SANDBOX_ENV
from revbridge.testing.servers import free_port

Setup = Callable[[str], tuple[str, dict[str, str]]]


def _salesforce(base: str) -> tuple[str, dict[str, str]]:
    token = httpx.post(
        f"{base}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": SANDBOX_ENV["SF_CLIENT_ID"],
            "client_secret": SANDBOX_ENV["SF_CLIENT_SECRET"],
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    created = httpx.post(
        f"{base}/services/data/v59.0/sobjects/Account/", json={"Name": "Bench"}, headers=headers
    ).json()
    return f"{base}/services/data/v59.0/sobjects/Account/{created['id']}", headers


def _netsuite(base: str) -> tuple[str, dict[str, str]]:
    headers = {"Authorization": "Bearer sandbox-oauth2-access-token"}
    response = httpx.post(
        f"{base}/services/rest/record/v1/customer",
        headers=headers,
        json={"companyName": "Bench", "subsidiary": {"id": "2"}},
    )
    return response.headers["location"], headers


def _stripe(base: str) -> tuple[str, dict[str, str]]:
    headers = {"Authorization": f"Bearer {SANDBOX_ENV['STRIPE_API_KEY']}"}
    created = httpx.post(f"{base}/v1/customers", data={"name": "Bench"}, headers=headers).json()
    return f"{base}/v1/customers/{created['id']}", headers


def _avalara(base: str) -> tuple[str, dict[str, str]]:
    pair = f"{SANDBOX_ENV['AVATAX_ACCOUNT_ID']}:{SANDBOX_ENV['AVATAX_LICENSE_KEY']}"
    headers = {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    return f"{base}/api/v2/utilities/ping", headers


SETUPS: dict[str, Setup] = {
    "salesforce": _salesforce,
    "netsuite": _netsuite,
    "stripe": _stripe,
    "avalara": _avalara,
}


def bench(name: str, seconds: float, runs: int, connections: int) -> dict[str, Any]:
    port = free_port()
    process = start_sandbox(name, port, {})
    wait_up(f"http://127.0.0.1:{port}")
    try:
        url, headers = SETUPS[name](f"http://127.0.0.1:{port}")
        asyncio.run(run_load(url, headers, 1.0, connections))  # warm-up
        results = [asyncio.run(run_load(url, headers, seconds, connections)) for _ in range(runs)]
    finally:
        process.terminate()
        process.wait(10)
    median = sorted(results, key=lambda r: r.rate)[len(results) // 2]
    return {
        "sandbox": name,
        "request": f"GET {url.split(str(port), 1)[1]}",
        "requests_per_s": round(statistics.median(r.rate for r in results)),
        "runs": [round(r.rate) for r in results],
        "errors": sum(r.errors for r in results),
        "p50_ms": round(median.percentile(0.5), 2),
        "p99_ms": round(median.percentile(0.99), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()
    machine = f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"
    print(f"sandbox throughput — {machine}; client and server share the machine")
    rows = [bench(n, args.seconds, args.runs, args.connections) for n in args.only or SETUPS]
    for row in rows:
        print(
            f"{row['sandbox']:<11} {row['requests_per_s']:>6} req/s  p50 {row['p50_ms']} ms  "
            f"p99 {row['p99_ms']} ms  errors {row['errors']}  ({row['request']})"
        )
    print(json.dumps({"machine": machine, "results": rows}))


if __name__ == "__main__":
    main()
