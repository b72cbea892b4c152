"""Alert rules on a real store (SQLite and PostgreSQL) announced to a real HTTP receiver:
once when a rule fires, once when it resolves, again after a failed send, once under a race."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.load import load_policy
from revbridge.config.policy import Alert, Policy
from revbridge.observability.alerts import evaluate, run_alerts
from revbridge.observability.metrics import Metrics, render
from revbridge.store import alerts, cases
from revbridge.store.tables import exception_cases
from revbridge.testing.servers import free_port, serve

HOOK_ENV = "TEST_ALERT_HOOK"


@dataclass
class Receiver:
    """A webhook endpoint that records each POST and answers the next queued status."""

    statuses: list[int] = field(default_factory=list)  # then 200 forever
    delay_s: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def hook(request: Request) -> JSONResponse:
            body = json.loads(await request.body())
            if self.delay_s:
                await asyncio.sleep(self.delay_s)  # hold the sender on the line
            self.received.append(body)
            status = self.statuses.pop(0) if self.statuses else 200
            return JSONResponse({"ok": status < 300}, status_code=status)

        return Starlette(routes=[Route("/hook/{token}", hook, methods=["POST"])])

    @property
    def states(self) -> list[str]:
        return [body["revbridge"]["event"] for body in self.received]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, dict[str, str]]]:
    running = Receiver()
    with serve(running.app()) as url:
        yield running, {HOOK_ENV: f"{url}/hook/T0KEN-s3cret-part"}


def policy_with(*rules: dict[str, Any]) -> Policy:
    alerts_ = [Alert.model_validate({"webhook": {"env": HOOK_ENV}, **r}) for r in rules]
    return load_policy(EXAMPLE_POLICY).model_copy(update={"alerts": alerts_})


FINANCE_BACKLOG = {
    "name": "finance-backlog",
    "condition": "exception_age_s",
    "threshold": 3600,
    "owner": "finance_ops",
}


def open_case(engine: Engine, deal: str, owner: str, age: timedelta) -> str:
    with engine.begin() as conn:
        case, _ = cases.raise_case(
            conn,
            deal_key=deal,
            workflow_id=f"quote_to_cash:{deal}",
            owner=owner,
            failure_class="data",
            rule="customer.tax_id",
            message="missing tax id",
            guidance="add the tax id, then resume",
            context={},
            actions=["resume"],
            correlation_id=f"corr-{deal}",
        )
        conn.execute(
            update(exception_cases)
            .where(exception_cases.c.case_id == case.case_id)
            .values(created_at=datetime.now(UTC) - age)
        )
    return case.case_id


def firing_gauge(engine: Engine) -> dict[str, float]:
    body, _ = render(Metrics(engine))
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    return {s.labels["alert"]: s.value for s in families["revbridge_alert_firing"].samples}


def test_an_aging_case_fires_once_and_resolves_once(
    store_engine: Engine, receiver: tuple[Receiver, dict[str, str]]
) -> None:
    hook, env = receiver
    policy = policy_with(
        FINANCE_BACKLOG,
        {
            "name": "sales-backlog",
            "condition": "open_exceptions",
            "threshold": 1,
            "owner": "sales_ops",
        },
    )
    open_case(store_engine, "salesforce:006AGE1", "sales_ops", timedelta(hours=5))
    case_id = open_case(store_engine, "salesforce:006AGE2", "finance_ops", timedelta(hours=2))

    first = {o.name: o for o in evaluate(store_engine, policy, env)}
    for _ in range(3):
        evaluate(store_engine, policy, env)

    assert first["finance-backlog"].state == "firing"
    assert first["finance-backlog"].sent == "firing"
    assert 7200 <= float(first["finance-backlog"].value or 0) < 7300  # its owner's case only
    assert first["sales-backlog"].state == "ok"  # one sales_ops case: not above 1
    assert first["sales-backlog"].value == "1"
    assert hook.states == ["firing"]
    body = hook.received[0]
    fields = body["revbridge"]
    assert body["text"].startswith("[revbridge] FIRING: finance-backlog for finance_ops")
    assert fields["condition"] == "exception_age_s"
    assert fields["threshold"] == "3600"
    assert fields["owner"] == "finance_ops"
    assert float(fields["value"]) >= 7200
    assert fields["since"].endswith("Z")
    assert "revbridge exceptions list --owner finance_ops" in fields["hint"]
    assert {f["title"] for f in body["attachments"][0]["fields"]} >= {"alert", "value", "since"}
    assert firing_gauge(store_engine)["finance-backlog"] == 1

    with store_engine.begin() as conn:
        cases.resolve(conn, case_id, "resumed")
    for _ in range(3):
        evaluate(store_engine, policy, env)

    assert hook.states == ["firing", "resolved"]
    assert hook.received[1]["text"].startswith("[revbridge] RESOLVED: finance-backlog")
    with store_engine.connect() as conn:
        state = alerts.get(conn, "finance-backlog")
    assert state is not None
    assert state.state == "ok"
    assert not state.owed
    assert firing_gauge(store_engine)["finance-backlog"] == 0


def test_a_failed_send_is_retried_on_the_next_pass_then_sent_once(
    store_engine: Engine, receiver: tuple[Receiver, dict[str, str]]
) -> None:
    hook, env = receiver
    hook.statuses = [500]
    policy = policy_with(FINANCE_BACKLOG)
    open_case(store_engine, "salesforce:006RETRY", "finance_ops", timedelta(hours=3))

    (failed,) = evaluate(store_engine, policy, env)
    with store_engine.connect() as conn:
        owed = alerts.get(conn, "finance-backlog")
    (retried,) = evaluate(store_engine, policy, env)
    for _ in range(2):
        evaluate(store_engine, policy, env)

    assert failed.state == "firing"
    assert failed.sent is None
    assert failed.error == "the webhook answered 500"
    assert owed is not None
    assert owed.notified_at is None
    assert "claim" not in owed.detail
    assert retried.sent == "firing"
    assert hook.states == ["firing", "firing"]  # the failed attempt, then the one that counted


def test_two_evaluators_at_once_announce_once(
    store_engine: Engine, receiver: tuple[Receiver, dict[str, str]]
) -> None:
    hook, env = receiver
    hook.delay_s = 0.5  # the first sender is still on the line when the second evaluates
    policy = policy_with(FINANCE_BACKLOG)
    open_case(store_engine, "salesforce:006RACE", "finance_ops", timedelta(hours=3))
    start = threading.Barrier(2)
    sent: list[str | None] = []

    def evaluator(name: str) -> None:
        start.wait()
        sent.extend(o.sent for o in evaluate(store_engine, policy, env, evaluator=name))

    threads = [threading.Thread(target=evaluator, args=(f"w{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    evaluate(store_engine, policy, env)

    assert len(sent) == 2
    assert sent.count("firing") == 1
    assert hook.states == ["firing"]


def test_the_webhook_url_is_a_secret_never_logged(
    store_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{free_port()}/services/T000/B000/xoxb-secret-hook"
    policy = policy_with(FINANCE_BACKLOG)
    open_case(store_engine, "salesforce:006DOWN", "finance_ops", timedelta(hours=3))

    with caplog.at_level(logging.DEBUG, logger="revbridge"):
        (down,) = evaluate(store_engine, policy, {HOOK_ENV: url})
        (unset,) = evaluate(store_engine, policy, {})

    assert down.state == "firing"
    assert down.sent is None
    assert down.error is not None
    assert "ConnectError" in down.error
    assert unset.error == f"environment variable {HOOK_ENV} is not set"
    ours = [r for r in caplog.records if r.name.startswith("revbridge")]
    assert ours
    assert all("xoxb-secret-hook" not in r.getMessage() for r in ours)
    with store_engine.connect() as conn:
        state = alerts.get(conn, "finance-backlog")
    assert state is not None
    assert "xoxb-secret-hook" not in json.dumps(state.detail)


def test_the_worker_loop_evaluates_on_its_interval_and_announces_once(
    store_engine: Engine, receiver: tuple[Receiver, dict[str, str]]
) -> None:
    hook, env = receiver
    policy = policy_with(FINANCE_BACKLOG)
    open_case(store_engine, "salesforce:006LOOP", "finance_ops", timedelta(hours=3))

    async def run_for(seconds: float) -> None:
        stop = asyncio.Event()
        loop = asyncio.create_task(run_alerts(store_engine, policy, stop, 0.1, env))
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.wait_for(loop, 10)

    asyncio.run(run_for(1.0))

    with store_engine.connect() as conn:
        state = alerts.get(conn, "finance-backlog")
    assert state is not None
    assert state.state == "firing"
    assert state.evaluated_at - state.since > timedelta(seconds=0.5)  # evaluated again and again
    assert hook.states == ["firing"]


def test_a_rule_removed_from_the_policy_is_forgotten(
    store_engine: Engine, receiver: tuple[Receiver, dict[str, str]]
) -> None:
    _, env = receiver
    sync = {"name": "sync-lag", "condition": "sync_lag_s", "threshold": 900}
    evaluate(store_engine, policy_with(FINANCE_BACKLOG, sync), env)
    evaluate(store_engine, policy_with(sync), env)

    assert set(firing_gauge(store_engine)) == {"sync-lag"}
