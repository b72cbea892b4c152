"""The acceptance harness: real sandboxes over HTTP, real `revbridge worker` processes, real
SQLite and PostgreSQL databases. Tests close deals in the CRM sandbox and look at what
every system holds afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from revbridge.app import open_store
from revbridge.cases.model import ExceptionCase
from revbridge.cli.sandbox import catalog_from_policy
from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.load import load_policy
from revbridge.config.settings import Settings
from revbridge.store import cases, deals
from revbridge.store.db import create_store_engine
from revbridge.testing.databases import PG_URL, require_postgres
from revbridge.testing.estate import SANDBOX_ENV, LocalEstate, local_estate
from revbridge_sandboxes.seed import PriceBook, close_deals, create_deal, prepare_catalog

REVBRIDGE = str(Path(sys.executable).with_name("revbridge"))


@pytest.fixture
def estate() -> Iterator[LocalEstate]:
    with local_estate(options={"netsuite": {"approval_delay_s": 0.2}}) as running:
        yield running


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database for revbridge and DBOS: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'revbridge.db'}"
        return
    require_postgres(request.getfixturevalue("postgres_reason"))
    name = f"rb_{uuid.uuid4().hex[:10]}"
    admin = create_store_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


class Worker:
    """A `revbridge worker` process with its own environment."""

    def __init__(self, env: dict[str, str], policy: Path, log: Path, args: list[str]) -> None:
        self.env, self.policy, self.log, self.args = env, policy, log, args
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [REVBRIDGE, "worker", "--policy", str(self.policy), "--poll", "0.1", *self.args],
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def stack(estate: LocalEstate, database_url: str, tmp_path: Path) -> Iterator[Stack]:
    policy = estate.write_policy(tmp_path / "revbridge.yaml")
    env = {**os.environ, **SANDBOX_ENV, "REVBRIDGE_DATABASE_URL": database_url}
    running = Stack(estate, database_url, policy, env, tmp_path)
    yield running
    for worker in running.workers:
        worker.stop()


class Stack:
    def __init__(
        self, estate: LocalEstate, database_url: str, policy: Path, env: dict[str, str], tmp: Path
    ) -> None:
        self.estate, self.database_url, self.policy, self.env = estate, database_url, policy, env
        self.tmp = tmp
        self.workers: list[Worker] = []
        self._engine: Engine | None = None
        self._book: PriceBook | None = None

    def worker(self, extra_env: dict[str, str] | None = None, *args: str) -> Worker:
        log = self.tmp / f"worker-{len(self.workers)}.log"
        worker = Worker({**self.env, **(extra_env or {})}, self.policy, log, list(args)).start()
        self.workers.append(worker)
        return worker

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_store(Settings(database_url=self.database_url))  # type: ignore[arg-type]
        return self._engine

    @property
    def book(self) -> PriceBook:
        if self._book is None:
            catalog = catalog_from_policy(load_policy(EXAMPLE_POLICY))
            self._book = prepare_catalog(self.estate.endpoints(), catalog)
        return self._book

    def uk_deal(self, parent_name: str = "Globex Holdings", **account: Any) -> str:
        """The reference scenario: a UK child account buying a subscription, an
        implementation and a usage add-on."""
        return create_deal(
            self.book,
            parent={
                "Name": parent_name,
                "BillingStreet": "1 Finsbury Ave",
                "BillingCity": "London",
                "BillingPostalCode": "EC2A 4NE",
                "BillingCountryCode": "GB",
            },
            account={
                "Name": "Globex UK",
                "BillingStreet": "2 Piccadilly Pl",
                "BillingCity": "Manchester",
                "BillingPostalCode": "M1 1AE",
                "BillingCountryCode": "GB",
                **account,
            },
            lines=[("SUB-PLATFORM-ANNUAL", 1), ("SVC-IMPLEMENTATION", 1), ("USG-API-CALLS", 1)],
            currency="GBP",
            start=date(2027, 1, 1),
            end=date(2027, 12, 31),
        )

    def account_of(self, opportunity: str) -> str:
        rows = self.book.seeder.query(
            f"SELECT AccountId FROM Opportunity WHERE Id = '{opportunity}'"
        )
        return str(rows[0]["AccountId"])

    def revbridge(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a `revbridge` command against this stack's database."""
        return subprocess.run(
            [REVBRIDGE, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def case_for(self, opportunity: str) -> ExceptionCase:
        return self.wait(f"a case for {opportunity}", lambda: self.open_case(opportunity))  # type: ignore[no-any-return]

    def faults(self, name: str, rules: list[dict[str, Any]]) -> None:
        response = httpx.put(f"{self.estate.urls[name]}/_sandbox/faults", json={"rules": rules})
        assert response.status_code == 200, response.text

    def counts(self) -> dict[str, int]:
        """How many objects each system holds: what a duplicate would change."""
        netsuite = self.state("netsuite")["counts"]
        stripe = self.state("stripe")
        avalara = self.state("avalara")["counts"]
        return {
            "erp_customers": netsuite["customer"],
            "erp_orders": netsuite["salesOrder"],
            "billing_customers": len(stripe["customers"]),
            "subscriptions": len(stripe["subscriptions"]),
            "invoice_items": len(stripe["invoiceitems"]),
            "tax_documents": avalara["transactions"],
        }

    def close(self, *opportunities: str) -> None:
        close_deals(self.estate.endpoints(), list(opportunities))

    def deal(self, opportunity: str) -> deals.Deal | None:
        with self.engine.connect() as conn:
            return deals.get(conn, f"salesforce:{opportunity}")

    def deal_by_key(self, deal_key: str) -> deals.Deal | None:
        with self.engine.connect() as conn:
            return deals.get(conn, deal_key)

    def open_case(self, opportunity: str) -> ExceptionCase | None:
        with self.engine.connect() as conn:
            return cases.open_for_deal(conn, f"salesforce:{opportunity}")

    def wait(self, what: str, check: Callable[[], Any], timeout: float = 120) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.2)
        logs = "\n".join(w.log.read_text()[-3000:] for w in self.workers if w.log.exists())
        raise AssertionError(f"timed out waiting for {what}\n{logs}")

    def activated(self, opportunity: str, timeout: float = 120) -> deals.Deal:
        def check() -> deals.Deal | None:
            deal = self.deal(opportunity)
            return deal if deal is not None and deal.status.value == "activated" else None

        return self.wait(f"{opportunity} activated", check, timeout)  # type: ignore[no-any-return]

    def state(self, name: str) -> dict[str, Any]:
        """What the sandbox holds, as ``GET /_sandbox/state`` shows it (with fault counts)."""
        response = httpx.get(f"{self.estate.urls[name]}/_sandbox/state", timeout=30)
        return dict(response.json())
