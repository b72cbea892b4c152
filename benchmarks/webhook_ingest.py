"""Webhook ingest latency, open loop: signed Stripe events at a fixed rate.

``python -m benchmarks.webhook_ingest [--rate 1000] [--seconds 10] [--durability strict]``
serves the API (one uvicorn process, SQLite in ``strict`` mode: every acknowledged event is
on disk before the 200) and sends pre-signed ``invoice.paid`` events at a fixed rate over
32 keep-alive connections, timing each from its *scheduled* send (no coordinated
omission). Each request is verified (HMAC, 300 s tolerance), deduplicated in the inbox,
recorded with its canonical event and audit entry, and committed. Prints p50/p99/p99.9 and
the count of non-200 answers, then checks that every 200 is in the inbox.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from revbridge.config.example import EXAMPLE_POLICY
from revbridge.store.db import create_store_engine
from revbridge.store.tables import inbox
from revbridge.testing.servers import free_port

SECRET = "whsec_bench_4c1f0b2e"  # noqa: S105 - a throwaway secret of this benchmark


def _request(port: int, n: int) -> bytes:
    body = json.dumps(
        {
            "id": f"evt_bench{n:08d}",
            "object": "event",
            "type": "invoice.paid",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": f"in_{n}",
                    "object": "invoice",
                    "customer": "cus_bench",
                    "amount_paid": 1000,
                    "currency": "gbp",
                    "status": "paid",
                }
            },
        }
    ).encode()
    stamp = int(time.time())
    signature = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    head = (
        f"POST /v1/webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Stripe-Signature: t={stamp},v1={signature}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _open_loop(
    port: int, rate: float, seconds: float, first: int = 0
) -> tuple[list[float], int]:
    total = int(rate * seconds)
    requests = [_request(port, first + n) for n in range(total)]
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
    latencies: list[float] = []
    errors = 0

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while True:
            scheduled, payload = await queue.get()
            try:
                writer.write(payload)
                status = await _read_response(reader)
            except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
                status = 0
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            latencies.append((time.perf_counter() - scheduled) * 1000)
            errors += status != 200
            queue.task_done()

    workers = [asyncio.create_task(connection()) for _ in range(32)]
    start = time.perf_counter()
    for n, payload in enumerate(requests):
        due = start + n / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        queue.put_nowait((due, payload))
    await queue.join()
    for worker in workers:
        worker.cancel()
    return latencies, errors


def _wait_up(port: int) -> None:
    import httpx

    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the API did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--durability", choices=("strict", "fast"), default="strict")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="revbridge-ingest-"))
    url = f"sqlite:///{workdir / 'revbridge.db'}"
    policy = EXAMPLE_POLICY
    port = free_port()
    env = {
        **os.environ,
        "REVBRIDGE_DATABASE_URL": url,
        "REVBRIDGE_DURABILITY": args.durability,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "REVBRIDGE_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("revbridge")),
            "serve",
            "--port",
            str(port),
            "--policy",
            str(policy),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_up(port)
        asyncio.run(_open_loop(port, min(args.rate, 200), 1))  # warm-up
        latencies, errors = asyncio.run(_open_loop(port, args.rate, args.seconds, 10**6))
    finally:
        server.terminate()
        server.wait(30)
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 2)

    with create_store_engine(url).connect() as conn:
        stored = conn.execute(select(func.count()).select_from(inbox)).scalar_one()
    result = {
        "rate_per_s": args.rate,
        "seconds": args.seconds,
        "durability": args.durability,
        "requests": len(ordered),
        "non_200": errors,
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "p999_ms": pct(0.999),
        "max_ms": round(ordered[-1], 2),
        "inbox_rows": stored,
        "machine": f"{os.cpu_count()} CPUs",
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
