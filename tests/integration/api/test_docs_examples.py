"""The curl examples of docs/api.md, run with real curl against a live server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from revbridge.store import bindings, receivables
from revbridge.testing.factories import invoice_for, uk_subscription_order
from revbridge.testing.servers import serve

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"
BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
STRIPE_SECRET = "whsec_test_5b1f0c2e9a7d4e3f8a6b"
#: Every curl prints its status; the body goes nowhere.
WRAPPER = "curl() { command curl -sS -o /dev/null -w '%{http_code} ' \"$@\"; }\n"


def examples() -> list[tuple[str, list[int]]]:
    found = []
    for block in BLOCK.findall(DOC.read_text(encoding="utf-8")):
        expect = re.search(r"^# expect: (.+)$", block, re.MULTILINE)
        if "curl " in block and expect:
            found.append((block, [int(s) for s in expect.group(1).split()]))
    return found


@pytest.fixture
def store_engine(sqlite_url: str) -> Any:  # the examples need one backend
    from revbridge.store import migrate
    from revbridge.store.db import create_store_engine

    engine = create_store_engine(sqlite_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_every_curl_example_answers_its_documented_status(
    make_app: Any, keys: dict[str, str], make_case: Any, store_engine: Engine
) -> None:
    deal = "salesforce:006D0000001"
    case_id = make_case("sales_ops", deal=deal)
    with store_engine.begin() as conn:
        bindings.bind(conn, "customer", "acct-001", "stripe", "cus_42")
        order = uk_subscription_order()
        invoice = invoice_for(order, invoice_id="in_1Abc")
        receivables.save_invoice(conn, "stripe:in_1Abc", deal, "corr-1", "UK01", invoice)
    found = examples()
    assert len(found) >= 12
    assert sum(len(statuses) for _, statuses in found) >= 20
    with serve(make_app()) as base_url:
        env = {
            "PATH": os.environ["PATH"],
            "RB": base_url,
            "KEY": keys["admin"],
            "SALES_KEY": keys["sales_ops"],
            "CASE": case_id,
            "DEAL": deal,
            "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
        }
        for block, expected in found:
            run = subprocess.run(
                ["bash", "-c", WRAPPER + block],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            got = [int(s) for s in run.stdout.split()]
            assert got == expected, f"{block}\n→ {got} {run.stderr}"
            assert all(s < 500 for s in got)
