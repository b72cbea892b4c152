"""The console in a real browser: headless Chromium driven by Playwright, against the
acceptance stack (sandboxes over HTTP, a real ``revbridge worker``) and a real
``revbridge serve`` process.

Without ``/usr/bin/chromium`` these tests skip with the reason, except under ``CI=true``
where they fail. ``make test`` installs Chromium first when it can. Playwright's own
browser download is never used: there may be no internet.

One stack serves the whole module (starting it is most of the cost): clean deals that
activate, and Florida deals that a finance_ops readiness rule (tax nexus) stops.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from revbridge.store import console_users
from revbridge.testing.databases import require
from revbridge.testing.estate import SANDBOX_ENV, local_estate
from revbridge.testing.servers import free_port
from revbridge_sandboxes.seed import create_deal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "acceptance"))
from acceptance_stack import REVBRIDGE, Stack
from browser_stack import Console

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "browser-test passphrase"
NEW_YORK = {
    "BillingStreet": "350 5th Ave",
    "BillingCity": "New York",
    "BillingStateCode": "NY",
    "BillingPostalCode": "10001",
    "BillingCountryCode": "US",
}
MIAMI = {"BillingStateCode": "FL", "BillingCity": "Miami", "BillingPostalCode": "33101"}
LINES = [("SUB-PLATFORM-ANNUAL", 1), ("SVC-IMPLEMENTATION", 1)]


def _require_chromium() -> None:
    missing = f"{CHROMIUM} is not installed (apt-get install chromium); browser tests need it"
    require("Chromium", None if CHROMIUM.exists() else missing)


def _deal(stack: Stack, name: str, **address: Any) -> str:
    return create_deal(
        stack.book,
        account={"Name": name, **NEW_YORK, **address},
        lines=LINES,
        currency="USD",
        start=date(2027, 1, 1),
        end=date(2027, 12, 31),
    )


def _serve(stack: Stack, port: int) -> subprocess.Popen[bytes]:
    log = (stack.tmp / "serve.log").open("ab")
    return subprocess.Popen(
        [REVBRIDGE, "serve", "--host", "127.0.0.1", "--port", str(port), "--policy",
         str(stack.policy)],
        env=stack.env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _wait_until_up(stack: Stack, process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 120  # a start-up on a loaded machine, not a speed
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError((stack.tmp / "serve.log").read_text()[-3000:])


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    _require_chromium()
    tmp = tmp_path_factory.mktemp("console")
    with local_estate(options={"netsuite": {"approval_delay_s": 0.2}}) as estate:
        policy = estate.write_policy(tmp / "revbridge.yaml")
        url = f"sqlite:///{tmp / 'revbridge.db'}"
        env = {**os.environ, **SANDBOX_ENV, "REVBRIDGE_DATABASE_URL": url}
        stack = Stack(estate, url, policy, env, tmp)
        assert stack.engine is not None  # migrated once, before the processes start
        port = free_port()
        server = _serve(stack, port)
        try:
            stack.worker()
            clean = [_deal(stack, "Initech"), _deal(stack, "Hooli")]
            defects = [_deal(stack, "Vandelay", **MIAMI), _deal(stack, "Soylent", **MIAMI)]
            stack.close(*clean, *defects)
            with stack.engine.begin() as conn:  # `revbridge users create`: tested on its own
                console_users.create_user(conn, "fiona", "Fiona Fischer", "finance_ops", PASSWORD)
                console_users.create_user(conn, "sam", "Sam Sato", "sales_ops", PASSWORD)
            _wait_until_up(stack, server, port)
            yield Console(stack, f"http://127.0.0.1:{port}/console", clean, defects)
        finally:
            server.terminate()
            server.wait(15)
            for worker in stack.workers:
                worker.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) of 1280 by 800 pixels."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def sign_in(console: Console) -> Any:
    """``sign_in(page, username)`` through the form; lands on the overview."""

    def submit(page: Any, username: str) -> None:
        page.goto(f"{console.url}/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{console.url}/")

    return submit


@pytest.fixture
def screenshot() -> Any:
    """``screenshot(page, name)``: docs/screenshots/<name>.png of the viewport (the whole
    page with ``full_page=True``)."""

    def take(page: Any, name: str, full_page: bool = False) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return take
