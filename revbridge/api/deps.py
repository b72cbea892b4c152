"""What routes receive: the application's dependencies, injected once by ``create_app``.

Nothing here is global: ``create_app`` puts one :class:`ApiContext` on ``app.state`` and
routes ask for it with :data:`Context`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from revbridge.api.ratelimit import RateLimiter
from revbridge.cases.actions import Signal
from revbridge.config.policy import Policy
from revbridge.config.settings import Settings
from revbridge.ingress.billing import InvoiceStarter
from revbridge.ingress.deals import Starter
from revbridge.ingress.payloads import declares_json
from revbridge.ingress.webhooks import Receiver
from revbridge.observability.metrics import Metrics
from revbridge.ports import BillingEventsPort
from revbridge.service.database import Database
from revbridge.service.replays import Replay
from revbridge.service.usage import UsageReporter

__all__ = ["JSON_BODY", "ApiContext", "Context", "Replay"]


@dataclass
class ApiContext:
    settings: Settings
    engine: Database
    policy: Policy | None
    signal: Signal
    replay: Replay
    start: Starter | None
    limiter: RateLimiter
    metrics: Metrics
    billing_events: BillingEventsPort | None = None  # Stripe's pushed events
    settle: InvoiceStarter | None = None  # starts an invoice's run on the workers' queue
    receivers: Mapping[str, Receiver] = field(default_factory=dict)
    report_usage: UsageReporter | None = None  # starts a usage record's report on the workers


def _context(request: Request) -> ApiContext:
    context = request.app.state.context
    assert isinstance(context, ApiContext)
    return context


Context = Annotated[ApiContext, Depends(_context)]


def _json_body(request: Request) -> None:
    """A route that reads a JSON document answers 415 to a body of another media type
    (before its model would answer a misleading 422)."""
    if not declares_json(request.headers.get("content-type")):
        raise HTTPException(
            415, "send the body as application/json", headers={"Accept": "application/json"}
        )


#: Put on a route's ``dependencies`` when its body is a JSON document.
JSON_BODY = Depends(_json_body)
