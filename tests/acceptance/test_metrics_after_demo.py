"""After a real demo run, ``revbridge serve`` on the demo's database answers ``GET /metrics``
with the figures the store holds: the quote-to-order histogram counts the activated deals and
the open-case gauges add up to the open cases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from revbridge.cases.model import CaseState
from revbridge.store.db import create_store_engine
from revbridge.store.tables import deals, exception_cases
from revbridge.testing.servers import free_port

REVBRIDGE = str(Path(sys.executable).with_name("revbridge"))
DEALS, DEFECTS = 30, 0.2


def run(*args: str, cwd: Path, env: dict[str, str], timeout: float = 60) -> str:
    result = subprocess.run(
        [REVBRIDGE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"revbridge {args[0]}: {result.stdout[-3000:]}{result.stderr}"
    return result.stdout


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """The demo run to completion, then the API served on its database: (url, db url, auth)."""
    workdir = tmp_path / "demo"
    env = {**os.environ, "REVBRIDGE_LOG_LEVEL": "WARNING"}
    run(
        "demo",
        *("--deals", str(DEALS), "--defects", str(DEFECTS), "--timeout", "120"),
        *("--workdir", str(workdir), "--json", str(tmp_path / "summary.json")),
        cwd=tmp_path,
        env=env,
        timeout=180,
    )
    database_url = f"sqlite:///{workdir / 'revbridge.db'}"
    env["REVBRIDGE_DATABASE_URL"] = database_url
    created = run("keys", "create", "--role", "auditor", "--name", "scraper", cwd=tmp_path, env=env)
    token = created.strip().splitlines()[-1]
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [REVBRIDGE, "serve", "--port", str(port)],
        cwd=tmp_path,  # no revbridge.yaml here: the API runs without a policy
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a start-up on a loaded machine, not a speed
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(0.2)
        yield url, database_url, {"Authorization": f"Bearer {token}"}
    finally:
        serve.terminate()
        serve.wait(15)
        log.close()


def test_metrics_after_the_demo_match_the_store(
    api: tuple[str, str, dict[str, str]], tmp_path: Path
) -> None:
    url, database_url, auth = api
    engine = create_store_engine(database_url)
    with engine.connect() as conn:
        activated = conn.execute(
            select(func.count()).select_from(deals).where(deals.c.status == "activated")
        ).scalar_one()
        open_cases = conn.execute(
            select(func.count())
            .select_from(exception_cases)
            .where(exception_cases.c.state == CaseState.OPEN)
        ).scalar_one()
        held_deals = conn.execute(
            select(func.count())
            .select_from(exception_cases)
            .where(
                exception_cases.c.state == CaseState.OPEN,
                exception_cases.c.deal_key.in_(select(deals.c.deal_key)),
            )
        ).scalar_one()
    engine.dispose()
    summary = json.loads((tmp_path / "summary.json").read_text())

    answer = httpx.get(f"{url}/metrics", headers=auth, timeout=30)

    assert answer.status_code == 200, answer.text
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    (up,) = families["revbridge_business_metrics_up"].samples
    assert up.value == 1
    (count,) = [
        s
        for s in families["revbridge_quote_to_order_seconds"].samples
        if s.name == "revbridge_quote_to_order_seconds_count"
    ]
    open_gauges = families["revbridge_open_cases"].samples
    assert activated > 0, "the demo activated no deal"
    assert open_cases > 0, "the demo left no open case"
    assert activated == summary["activated"]
    assert open_cases == summary["open_cases"]
    assert count.value == activated
    assert sum(s.value for s in open_gauges) == open_cases
    assert activated + held_deals == DEALS  # every deal settled one way or the other
    money = summary["receivables"]
    assert money["invoices_posted"] == money["erp_invoices"] > 0
    assert money["invoices_paid"] + money["payment_cases"] == money["invoices_posted"]
    assert open_cases == held_deals + money["payment_cases"]
