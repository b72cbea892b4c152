"""The API over a real database (SQLite and PostgreSQL), with keys for every role.

``api`` is the application with a recording ``signal`` and ``replay`` (the real DBOS
delivery is tested with the flows); ``client`` talks to it in-process, ``live`` over a
real socket. ``keys`` holds one token per role.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from revbridge.api.auth import ROLES
from revbridge.api.main import create_app
from revbridge.canonical import ExternalRef
from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.load import load_policy
from revbridge.config.policy import Policy
from revbridge.config.settings import Settings
from revbridge.connectors.registry import billing_events
from revbridge.store import api_keys, cases, deals
from revbridge.testing.servers import serve

EXAMPLE = EXAMPLE_POLICY
STRIPE_SECRET = "whsec_test_5b1f0c2e9a7d4e3f8a6b"


@dataclass
class Recorder:
    signals: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    replays: list[tuple[str, str | None]] = field(default_factory=list)
    starts: list[tuple[str, str]] = field(default_factory=list)
    usage_reports: list[str] = field(default_factory=list)
    settles: list[tuple[str, str, float]] = field(default_factory=list)

    async def start(self, deal: ExternalRef, correlation_id: str) -> None:
        self.starts.append((str(deal), correlation_id))

    async def settle(self, invoice: ExternalRef, phase: str, at: float) -> None:
        self.settles.append((str(invoice), phase, at))

    async def report_usage(self, record_id: str) -> None:
        self.usage_reports.append(record_id)

    def signal(self, workflow_id: str, message: dict[str, Any]) -> None:
        self.signals.append((workflow_id, message))

    def replay(self, workflow_id: str, from_step: str | None) -> str:
        self.replays.append((workflow_id, from_step))
        return f"{workflow_id}:replay-{len(self.replays)}"


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(EXAMPLE)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def build_app(engine: Engine, policy: Policy, recorder: Recorder, **kw: Any) -> FastAPI:
    return create_app(
        Settings(database_url=str(engine.url.render_as_string(hide_password=False))),
        engine,
        policy,
        signal=recorder.signal,
        replay=recorder.replay,
        start=recorder.start,
        settle=recorder.settle,
        report_usage=recorder.report_usage,
        billing_events=billing_events(policy, {"STRIPE_WEBHOOK_SECRET": STRIPE_SECRET}),
        **kw,
    )


@pytest.fixture
def api(store_engine: Engine, policy: Policy, recorder: Recorder) -> FastAPI:
    return build_app(store_engine, policy, recorder)


@pytest.fixture
def make_app(store_engine: Engine, policy: Policy, recorder: Recorder) -> Any:
    """``make_app(**create_app options)``: another app on the same database."""
    return lambda **kw: build_app(store_engine, policy, recorder, **kw)


@pytest.fixture
def client(api: FastAPI) -> Iterator[httpx.Client]:
    """The API on a real socket."""
    with serve(api) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        yield http


@pytest.fixture
def keys(store_engine: Engine) -> dict[str, str]:
    """One working token per role."""
    tokens = {}
    with store_engine.begin() as conn:
        for role in ROLES:
            _key, tokens[role] = api_keys.create(conn, f"test-{role}", role)
    return tokens


@pytest.fixture
def auth(keys: dict[str, str]) -> dict[str, dict[str, str]]:
    """``auth[role]``: the Authorization header of that role's key."""
    return {role: {"Authorization": f"Bearer {token}"} for role, token in keys.items()}


@pytest.fixture
def make_case(store_engine: Engine) -> Any:
    """``make_case(owner, deal=...)``: a deal with an open case; its case id."""

    def make(owner: str, deal: str = "salesforce:006A0000001") -> str:
        return open_case(store_engine, owner, deal)

    return make


def open_case(engine: Engine, owner: str, deal: str) -> str:
    """A deal with an open exception case owned by ``owner``; the case id."""
    with engine.begin() as conn:
        deals.register(conn, deal, f"quote_to_cash:{deal}", f"corr-{owner}")
        deals.advance(conn, deal, status=deals.Status.EXCEPTION)
        case, _ = cases.raise_case(
            conn,
            deal_key=deal,
            workflow_id=f"quote_to_cash:{deal}",
            owner=owner,
            failure_class="validation.address",
            rule="validate",
            message="billing address has no postal code",
            guidance="fix the address in the CRM, then resume",
            context={"at": datetime.now(UTC).isoformat()},
            actions=["resume", "cancel"],
            correlation_id=f"corr-{owner}",
        )
    return case.case_id
