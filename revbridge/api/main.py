"""The composition of the HTTP API: ``create_app`` wires routes, the gate and problems.

Everything the routes use is injected here; nothing is read from globals.
:func:`revbridge.app.build_api` builds the real dependencies for ``revbridge serve``;
tests inject their own ``signal``, ``start``, ``replay``, ``billing_events`` and
``report_usage``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from revbridge import __version__, console
from revbridge.api import problems
from revbridge.api.auth import Reader
from revbridge.api.deps import ApiContext, Replay
from revbridge.api.gate import MAX_BODY, Gate
from revbridge.api.proxies import ForwardedFor
from revbridge.api.ratelimit import RateLimiter
from revbridge.api.routes import (
    audit,
    customers,
    deals,
    events,
    exceptions,
    health,
    metrics,
    orders,
    replays,
    usage,
    webhooks,
)
from revbridge.api.versioning import PREFIX
from revbridge.cases.actions import Signal
from revbridge.config.policy import Policy
from revbridge.config.settings import Settings
from revbridge.flows import runtime
from revbridge.ingress.billing import InvoiceStarter
from revbridge.ingress.deals import Starter
from revbridge.ingress.webhooks import Receiver
from revbridge.observability.metrics import Metrics
from revbridge.ports import BillingEventsPort
from revbridge.service.database import Database
from revbridge.service.usage import UsageReporter

OPENAPI_PATH = f"{PREFIX}/openapi.json"


def create_app(
    settings: Settings,
    engine: Database,
    policy: Policy | None = None,
    *,
    signal: Signal | None = None,
    start: Starter | None = None,
    replay: Replay | None = None,
    receivers: Mapping[str, Receiver] | None = None,
    billing_events: BillingEventsPort | None = None,
    settle: InvoiceStarter | None = None,
    report_usage: UsageReporter | None = None,
    rate: tuple[float, int] = (50.0, 100),
    max_body: int = MAX_BODY,
) -> FastAPI:
    """The API v1 application over ``engine``; see docs/api.md."""
    outside = runtime.Outside(settings.database_url.get_secret_value())
    context = ApiContext(
        settings=settings,
        engine=engine,
        policy=policy,
        signal=signal or outside.signal,
        replay=replay or outside.replay,
        start=start,
        limiter=RateLimiter(*rate),
        metrics=Metrics(engine),
        billing_events=billing_events,
        settle=settle,
        receivers=dict(receivers or {}),
        report_usage=report_usage,
    )
    app = FastAPI(
        title="revbridge API",
        version=__version__,
        summary="Quote-to-cash: deals, exceptions, events, replays and the audit log.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = context
    problems.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    for module in (events, deals, customers, exceptions, orders, usage, replays, audit, webhooks):
        app.include_router(module.router, prefix=PREFIX)
    app.mount(console.PATH, console.build(context))  # session auth, see docs/console.md

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
            app.openapi_schema = problems.openapi_problems(schema)
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]

    @app.get(OPENAPI_PATH, include_in_schema=False)
    def openapi(_who: Reader) -> dict[str, Any]:
        return document()

    app.add_middleware(Gate, context=context, max_body=max_body)
    app.add_middleware(ForwardedFor, proxies=settings.trusted_proxies)  # outermost
    return app
