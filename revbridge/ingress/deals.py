"""Accept a closed-won signal: record it once, then start (or attach to) the deal's flow.

The inbox row is committed first; the workflow is then enqueued whatever the inbox said,
because enqueueing is idempotent by workflow id. So a crash between the two is healed
by the sender's retry (it got no acknowledgement), and a duplicate never starts a second
flow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opentelemetry.trace import SpanKind
from sqlalchemy import Engine

from revbridge.canonical import ExternalRef, correlation_id_for
from revbridge.flows.quote_to_cash import workflow_id
from revbridge.observability import context, tracing
from revbridge.store import deals, inbox
from revbridge.store.inbox import InboundEvent, Outcome

#: Starts the deal's workflow: (deal ref, correlation id) → None.
Starter = Callable[[ExternalRef, str], Awaitable[None]]


@dataclass(frozen=True)
class ClosedWon:
    """A CRM change saying a deal was won, however it arrived."""

    source: str
    event_id: str
    deal: ExternalRef
    version: str
    occurred_at: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)


async def accept(engine: Engine, start: Starter, signal: ClosedWon) -> Outcome:
    """Record the signal, then start the deal's flow; returns what the inbox decided."""
    correlation = correlation_id_for(signal.deal)
    event = InboundEvent(
        source=signal.source,
        event_id=signal.event_id,
        event_type="opportunity.closed_won",
        payload=signal.payload,
        business_key=f"deal:{signal.deal}",
        business_version=signal.version,
        correlation_id=correlation,
    )

    def record() -> Outcome:
        with engine.begin() as conn:
            outcome = inbox.record(conn, event)
            if outcome is Outcome.NEW:
                deals.register(
                    conn,
                    str(signal.deal),
                    workflow_id(signal.deal),
                    correlation,
                    closed_at=signal.occurred_at,
                )
            return outcome

    with (
        context.bound(correlation=correlation, deal_key=str(signal.deal)),
        tracing.span(
            "ingress closed_won",
            SpanKind.CONSUMER,
            {"revbridge.source": signal.source, "revbridge.event_id": signal.event_id},
        ) as span,
    ):
        outcome = await asyncio.to_thread(record)
        span.set_attribute("revbridge.inbox", outcome.value)
        await start(signal.deal, correlation)
    return outcome
