"""What revbridge acknowledged survives a SIGKILL: no 2xx before the commit.

Events stream into a real `revbridge serve` from several clients; the server is killed
mid-stream; every event it answered 202 for is then found in the inbox and the event log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from acceptance_stack import REVBRIDGE
from sqlalchemy import select

from revbridge.app import open_store
from revbridge.config.settings import Settings
from revbridge.store import api_keys
from revbridge.store.tables import event_log, inbox
from revbridge.testing.servers import free_port

CLIENTS = 4
SOURCE = "/durability-test"


def _event(client: int, n: int) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": f"ev-{client}-{n}",
        "source": SOURCE,
        "type": "com.revbridge.exception.raised",
        "correlationid": f"corr-{client}-{n}",
        "data": {"n": n},
    }


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
def test_every_acknowledged_event_is_in_the_store_after_a_sigkill(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "REVBRIDGE_DATABASE_URL": database_url,
        "REVBRIDGE_POLICY_FILE": str(tmp_path / "none.yaml"),
        "REVBRIDGE_DURABILITY": "strict",
    }
    engine = open_store(Settings(database_url=database_url))  # type: ignore[arg-type]
    with engine.begin() as conn:
        _key, token = api_keys.create(conn, "durability", "integration_support")
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/cloudevents+json",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [REVBRIDGE, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120  # a start-up on a loaded machine, not a speed
    while True:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "revbridge serve did not start"
            time.sleep(0.1)

    acknowledged: list[list[str]] = [[] for _ in range(CLIENTS)]

    def client(c: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=5) as http:
            for n in range(100_000):
                try:
                    answer = http.post("/v1/events", json=_event(c, n))
                except httpx.TransportError:
                    return
                if answer.status_code == 202:
                    acknowledged[c].append(f"ev-{c}-{n}")

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for thread in threads:
        thread.start()
    # Kill mid-stream once enough events were acknowledged to mean something (however slow
    # a loaded machine is), with the clients still sending.
    enough = time.monotonic() + 120
    while sum(map(len, acknowledged)) < 60 and time.monotonic() < enough:
        time.sleep(0.1)
    server.send_signal(signal.SIGKILL)
    server.wait(10)
    for thread in threads:
        thread.join(10)

    acked = {event for per_client in acknowledged for event in per_client}
    with engine.connect() as conn:
        stored = set(conn.execute(select(inbox.c.event_id).where(inbox.c.source == SOURCE)))
        logged = conn.execute(select(event_log.c.event_id)).scalars().all()
    engine.dispose()
    stored_ids = {row.event_id for row in stored}
    assert len(acked) >= 50, f"too few events acknowledged to mean anything: {len(acked)}"
    assert acked <= stored_ids, sorted(acked - stored_ids)[:5]
    assert acked <= set(logged), sorted(acked - set(logged))[:5]
