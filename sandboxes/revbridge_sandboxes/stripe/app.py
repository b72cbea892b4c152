"""The Stripe sandbox app: routes, sandbox-only clock controls and ``create_app``.

Sandbox-only routes (besides the shared ``/_sandbox/faults|reset|state``):

* ``GET /_sandbox/clock`` → ``{"now", "offset"}`` of the global sandbox clock;
* ``POST /_sandbox/clock/advance`` with ``{"seconds": N}`` (or ``{"to": unix}``) moves
  the global clock forward and runs the billing work that came due for objects
  without a test clock; answers ``{"now", "offset"}``;
* ``GET /_sandbox/webhooks`` → the webhook delivery log; ``POST
  /_sandbox/webhooks/drain`` waits until queued deliveries are done, then returns it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from revbridge_sandboxes.control import Sandbox, SnapshotFile
from revbridge_sandboxes.faults import FaultConfig, FaultInjector
from revbridge_sandboxes.stripe import (
    customers,
    events,
    invoice_items,
    invoice_lines,
    invoice_payments,
    invoices,
    meters,
    payment_intents,
    payment_methods,
    prices,
    products,
    subscription_items,
    subscriptions,
    tax_rates,
    test_clocks,
    webhook_endpoints,
)
from revbridge_sandboxes.stripe.access import RateLimiter
from revbridge_sandboxes.stripe.endpoint import Endpoint, Routes
from revbridge_sandboxes.stripe.pipeline import Pipeline, advance_global, fault_error_body
from revbridge_sandboxes.stripe.state import DEFAULT_API_VERSION, Options, StripeState
from revbridge_sandboxes.webhooks import WebhookSender

DEFAULT_PORT = 8703
DEFAULT_API_KEY = "sk_test_revbridge_sandbox"
METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH"]
RESOURCES: tuple[Routes, ...] = (
    customers.ROUTES,
    products.ROUTES,
    prices.ROUTES,
    subscriptions.ROUTES,
    subscription_items.ROUTES,
    invoice_items.ROUTES,
    invoices.ROUTES,
    invoice_lines.ROUTES,
    invoice_payments.ROUTES,
    payment_intents.ROUTES,
    payment_methods.ROUTES,
    tax_rates.ROUTES,
    meters.ROUTES,
    events.ROUTES,
    webhook_endpoints.ROUTES,
    test_clocks.ROUTES,
)


def create_app(
    *,
    faults: FaultConfig | None = None,
    persist: SnapshotFile | None = None,
    api_keys: Iterable[str] = (DEFAULT_API_KEY,),
    api_version: str = DEFAULT_API_VERSION,
    rate_limit_per_s: float | None = None,
    webhook_endpoints: Iterable[tuple[str, str]] = (),
    fail_payments: bool = False,
    execution_delay_s: float = 0.0,
    webhook_max_attempts: int = 5,
    webhook_backoff_s: float = 0.2,
) -> Sandbox:
    """Build the Stripe sandbox.

    ``api_keys``: the secret keys accepted (Bearer, or Basic with the key as user).
    ``api_version``: answered in ``Stripe-Version`` when the client sends none.
    ``rate_limit_per_s``: Stripe's per-account limit (25 in sandbox mode); off when None.
    ``webhook_endpoints``: ``(url, whsec_secret)`` pairs receiving every event.
    ``fail_payments``: decline every charge (customers may override with
    ``metadata[sandbox_payment]=succeed|fail``).
    ``execution_delay_s``: simulated processing time inside endpoint execution, while
    the idempotency key is held (makes concurrent-reuse 409s reproducible).
    """
    options = Options(
        api_version=api_version,
        fail_payments=fail_payments,
        webhook_endpoints=list(webhook_endpoints),
    )
    state = StripeState(options)
    injector = FaultInjector(faults)
    sender = WebhookSender(injector, max_attempts=webhook_max_attempts, backoff_s=webhook_backoff_s)
    pipeline = Pipeline(
        state=state,
        keys=frozenset([api_keys] if isinstance(api_keys, str) else api_keys),
        limiter=RateLimiter(rate_limit_per_s),
        sender=sender,
        execution_delay_s=execution_delay_s,
    )
    app = Starlette(routes=_routes(pipeline))
    return Sandbox("stripe", app, state, fault_error_body, injector, persist)


def _routes(pipeline: Pipeline) -> list[Route]:
    routes = [
        Route("/_sandbox/clock", _clock(pipeline), methods=["GET"]),
        Route("/_sandbox/clock/advance", _advance(pipeline), methods=["POST"]),
        Route("/_sandbox/webhooks", _webhooks(pipeline, drain=False), methods=["GET"]),
        Route("/_sandbox/webhooks/drain", _webhooks(pipeline, drain=True), methods=["POST"]),
    ]
    for table in RESOURCES:
        for path, methods in table.items():
            routes.append(Route(path, _endpoint(pipeline, methods), methods=METHODS))
    routes.append(Route("/{path:path}", _endpoint(pipeline, {}), methods=METHODS))
    return routes


def _endpoint(pipeline: Pipeline, methods: dict[str, Endpoint]) -> Any:
    async def endpoint(request: Request) -> Response:
        return await pipeline.dispatch(request, methods)

    return endpoint


def _clock(pipeline: Pipeline) -> Any:
    async def clock(request: Request) -> Response:
        del request
        state = pipeline.state
        return JSONResponse({"now": state.clock.now(), "offset": state.clock.offset})

    return clock


def _advance(pipeline: Pipeline) -> Any:
    async def advance(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
            seconds = (
                int(body["to"]) - pipeline.state.clock.now()
                if "to" in body
                else int(body["seconds"])
            )
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": 'send {"seconds": N} or {"to": unix_time}'}, 400)
        if seconds < 0:
            return JSONResponse({"error": "the sandbox clock only moves forward"}, 400)
        state = pipeline.state
        advance_global(state, seconds)
        events.deliver(pipeline.sender, state.take_outbox())
        return JSONResponse({"now": state.clock.now(), "offset": state.clock.offset})

    return advance


def _webhooks(pipeline: Pipeline, drain: bool) -> Any:
    async def webhooks(request: Request) -> Response:
        del request
        if drain:
            await pipeline.sender.drain()
        return JSONResponse(asdict(pipeline.sender.log))

    return webhooks
