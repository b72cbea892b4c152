"""The composition root: settings → store → policy → connectors → flows → faces.

Nothing else constructs adapters, installs the flows' services or wires the API.
Commands call :func:`open_store` when they only need the database, :func:`build` and
:func:`run_worker` when they run deals, and :func:`build_api` for the HTTP API. DBOS is
reached only through :mod:`revbridge.flows.runtime`.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from revbridge.canonical import ExternalRef
from revbridge.config.policy import Policy
from revbridge.config.settings import Settings
from revbridge.errors import ConfigError
from revbridge.ports import BillingEventFeed, CallsOut, ChangeFeedSource, ChangePushReceiver
from revbridge.store.db import create_store_engine

if TYPE_CHECKING:
    from fastapi import FastAPI

    from revbridge.flows import runtime
    from revbridge.ingress.billing import InvoiceStarter
    from revbridge.ingress.deals import Starter
    from revbridge.ingress.webhooks import Receiver
    from revbridge.observability.metrics import Metrics
    from revbridge.service.usage import UsageReporter
    from revbridge.store.budgets import SharedBudgets


def database_url(settings: Settings) -> str:
    return settings.database_url.get_secret_value()


def open_store(settings: Settings, upgrade: bool = True) -> Engine:
    """The engine on revbridge's database, migrated to the newest schema."""
    engine = create_store_engine(database_url(settings), settings.durability.value)
    if upgrade:
        from revbridge.store import migrate  # Alembic: only for commands that open the store

        migrate.upgrade(engine)
    return engine


@dataclass
class App:
    settings: Settings
    engine: Engine
    policy: Policy
    policy_hash: str
    services: runtime.Services
    metrics: Metrics
    starter: Starter | None = None  # set by run_worker: starts a deal's flow in this process


def load_and_record_policy(
    engine: Engine, path: Path, who: str | None = None
) -> tuple[Policy, str]:
    """Load the policy file and record it as the active config version."""
    from revbridge.config.load import load_policy, policy_hash
    from revbridge.store import config_versions

    policy = load_policy(path)
    digest = policy_hash(path)
    with engine.begin() as conn:
        config_versions.record(
            conn, digest, path.read_text(encoding="utf-8"), str(path), who or getpass.getuser()
        )
    return policy, digest


def build(
    settings: Settings,
    policy_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    erp_poll_s: float = 1.0,
) -> App:
    """Wire everything for a process that runs deals, and install the flows' services."""
    from revbridge.connectors.registry import adapter_for_role
    from revbridge.flows import runtime

    env = os.environ if env is None else env
    engine = open_store(settings)
    policy, digest = load_and_record_policy(engine, policy_path or settings.policy_file)
    entitlements = None
    if policy.entitlements is not None and policy.entitlements.endpoints:
        from revbridge.connectors import provisioning

        entitlements = provisioning.build(policy.entitlements, policy.defaults.retry, env)
    services = runtime.Services(
        crm=adapter_for_role(policy, "crm", env),
        erp=adapter_for_role(policy, "erp", env),
        tax=adapter_for_role(policy, "tax", env),
        billing=adapter_for_role(policy, "billing", env),
        policy=policy,
        policy_hash=digest,
        engine=engine,
        erp_poll_s=erp_poll_s,
        entitlements=entitlements,
    )
    runtime.install(services)
    from revbridge.observability.metrics import Metrics
    from revbridge.store.budgets import SharedBudgets

    metrics = Metrics(engine)
    shared = policy.fleet.shared_budgets
    if shared is None:
        shared = engine.dialect.name == "postgresql"
    budgets = SharedBudgets(engine, f"{socket.gethostname()}-{os.getpid()}") if shared else None
    for adapter in (services.crm, services.erp, services.tax, services.billing):
        _observe(adapter, metrics, budgets)
    return App(settings, engine, policy, digest, services, metrics)


def remote_starter(url: str) -> Starter:
    """Starts a deal's flow from a process that runs none (``revbridge serve``): enqueued
    on the workers' deals queue."""
    from revbridge.flows import runtime
    from revbridge.flows.quote_to_cash import PROCESS, workflow_id

    enqueuer = runtime.Enqueuer(url)

    async def start(deal: ExternalRef, correlation_id: str) -> None:
        await asyncio.to_thread(
            enqueuer.enqueue, PROCESS, workflow_id(deal), str(deal), correlation_id
        )

    return start


def remote_settler(url: str) -> InvoiceStarter:
    """Starts an invoice's run from a process that runs none (``revbridge serve``)."""
    from revbridge.flows import runtime
    from revbridge.flows.receivables import PROCESS, workflow_id

    enqueuer = runtime.Enqueuer(url)

    async def settle(invoice: ExternalRef, phase: str, at: float) -> None:
        await asyncio.to_thread(
            enqueuer.enqueue, PROCESS, workflow_id(invoice, phase), str(invoice), phase, at
        )

    return settle


def remote_usage_reporter(url: str) -> UsageReporter:
    """Starts a usage record's report from a process that runs none (``revbridge serve``):
    enqueued on the workers' queue, one run per record id."""
    from revbridge.flows import runtime
    from revbridge.flows.usage import PROCESS, arguments, workflow_id

    enqueuer = runtime.Enqueuer(url)

    async def report(record_id: str) -> None:
        run = workflow_id(record_id)
        await asyncio.to_thread(enqueuer.enqueue, PROCESS, run, *arguments(record_id))

    return report


def build_api(
    settings: Settings,
    engine: Engine,
    policy: Policy | None,
    env: Mapping[str, str] | None = None,
    *,
    notice: Callable[[str], None] = logging.getLogger(__name__).warning,
) -> FastAPI:
    """The HTTP API as ``revbridge serve`` runs it: deals start on the workers' queue,
    operator actions and replays reach the flows, and with a policy the CRM's pushed
    changes are received (``notice`` says why not when its adapter cannot be built) and
    the billing system's events are verified and read by its connector."""
    from revbridge.api.main import create_app
    from revbridge.connectors.registry import adapter_for_role, billing_events

    env = os.environ if env is None else env
    pushed: dict[str, Receiver] = {}
    if policy is not None:
        try:
            pushed = receivers(adapter_for_role(policy, "crm", env))
        except ConfigError as exc:
            notice(f"CRM change webhooks off: {exc}")
    start = remote_starter(database_url(settings))
    events = billing_events(policy, env) if policy is not None else None
    settle = remote_settler(database_url(settings))
    return create_app(
        settings,
        engine,
        policy,
        start=start,
        receivers=pushed,
        billing_events=events,
        settle=settle,
        report_usage=remote_usage_reporter(database_url(settings)),
    )


def _observe(adapter: object, metrics: Metrics, budgets: SharedBudgets | None) -> None:
    """Count every connector call in the metrics and, in a fleet, hold the system's budget
    across all workers (an adapter that :class:`~revbridge.ports.CallsOut` does so through
    one HTTP caller)."""
    if isinstance(adapter, CallsOut):
        adapter.http.observers.append(metrics.observe_call)
        adapter.http.shared_budget = budgets


def receivers(crm: object) -> dict[str, Receiver]:
    """The CRM's receiver of pushed changes by system name, when it has one."""
    if isinstance(crm, ChangePushReceiver):
        return {crm.system: crm.pushed_changes}
    return {}


async def run_worker(
    app: App,
    stop: asyncio.Event,
    *,
    concurrency: int = 16,
    poll_s: float | None = 0.5,
    billing_poll_s: float | None = 30.0,
    webhooks: tuple[str, int] | None = None,
    executor_id: str | None = None,
    metrics: tuple[str, int] | None = None,
) -> None:
    """Run deals until ``stop``: join the fleet (heartbeats, takeover of gone workers'
    deals), serve the deals queue; the CRM's change feed (when it has one) is polled after
    its durable watermark unless ``poll_s`` is None; the billing system's recent invoice
    events every ``billing_poll_s`` (None: never), so a lost webhook loses no invoice;
    with ``webhooks`` (host, port) pushed change events are received there too, and with
    ``REVBRIDGE_NATS_URL`` canonical events on ``revbridge.ingest.>``; with ``metrics``
    (host, port) this worker's metrics are served there (``GET /metrics``)."""
    from revbridge.flows import fleet, receivables, runtime
    from revbridge.flows import usage as _usage  # noqa: F401  (registers its workflow)
    from revbridge.flows.quote_to_cash import quote_to_cash, workflow_id
    from revbridge.ingress import nats_consumer
    from revbridge.ingress.billing import poll_forever as billing_events_pull
    from revbridge.ingress.polling import poll_forever
    from revbridge.observability.alerts import run_alerts
    from revbridge.observability.tracing import configure_tracing

    configure_tracing(app.settings)  # no-op unless an OTLP endpoint is configured
    me = executor_id or fleet.default_executor_id()
    await asyncio.to_thread(fleet.join, app.engine, me)
    await runtime.launch(database_url(app.settings), me, concurrency=concurrency)

    async def start(deal: ExternalRef, correlation_id: str) -> None:
        await runtime.start_deal(quote_to_cash, workflow_id(deal), str(deal), correlation_id)

    async def settle(invoice: ExternalRef, phase: str, at: float) -> None:
        run = receivables.workflow_id(invoice, phase)
        await runtime.start_deal(receivables.settle_invoice, run, str(invoice), phase, at)

    app.starter = start
    exporter = None
    if metrics is not None:
        from prometheus_client import start_http_server

        app.metrics.watch_queue(runtime.queue_depth, runtime.DEALS_QUEUE)
        exporter, _ = start_http_server(metrics[1], metrics[0], registry=app.metrics.registry)
    crm = app.services.crm
    feed = crm.change_feed() if isinstance(crm, ChangeFeedSource) else None
    tasks = [asyncio.create_task(fleet.keep(app.engine, me, app.policy.fleet, stop, stop.set))]
    interval = app.settings.alert_interval_s
    tasks.append(asyncio.create_task(run_alerts(app.engine, app.policy, stop, interval, None, me)))
    if feed is not None and poll_s is not None:
        tasks.append(asyncio.create_task(poll_forever(app.engine, feed, start, stop, poll_s)))
    billing = app.services.billing
    if isinstance(billing, BillingEventFeed) and billing_poll_s is not None:
        pull = billing_events_pull(app.engine, billing, settle, stop, billing_poll_s)
        tasks.append(asyncio.create_task(pull))
    if webhooks is not None:
        tasks.append(asyncio.create_task(_serve_webhooks(app, start, webhooks, stop)))
    if app.settings.nats_url is not None:
        consume = nats_consumer.run_configured(app.engine, start, app.settings, stop)
        tasks.append(asyncio.create_task(consume))
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        runtime.quiet_interruptions()
        if exporter is not None:
            exporter.shutdown()
        await asyncio.to_thread(runtime.shutdown)
        fleet.leave(app.engine, me)  # the runtime has shut this loop's default executor down


async def _serve_webhooks(
    app: App, start: Starter, address: tuple[str, int], stop: asyncio.Event
) -> None:
    import uvicorn

    from revbridge.ingress.webhooks import webhook_app

    config = uvicorn.Config(
        webhook_app(app.engine, start, receivers(app.services.crm)),
        host=address[0],
        port=address[1],
        log_level="warning",
        lifespan="off",
        proxy_headers=False,  # revbridge's own middleware decides whom to believe
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        await stop.wait()
    finally:
        server.should_exit = True
        await serving
