"""Billing events, pushed (a signed webhook) or pulled (the billing system's event list):
recorded once, then the invoice's run started.

The inbox row is committed first, then the run of the invoice's phase is enqueued
whatever the inbox said: enqueueing is idempotent by workflow id, so a redelivery attaches
to the run it already started, and a crash between the two is healed by the next delivery
or the next pull. The pull (:func:`poll_forever`) reads the newest ``PULL_LIMIT`` invoice
events on each pass, so an event whose webhook never came is found on the next pass as
long as fewer than ``PULL_LIMIT`` invoice events happened in between (the events already
in the inbox are recorded once, as for a redelivered webhook).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import Engine

from revbridge.canonical import ExternalRef
from revbridge.flows.receivables import phase_of
from revbridge.ports import BillingEvent, BillingEventFeed
from revbridge.service import events

#: Starts the run of one invoice's phase: (invoice ref, phase, when billing said so).
InvoiceStarter = Callable[[ExternalRef, str, float], Awaitable[None]]
#: How many of the newest invoice events each pull reads.
PULL_LIMIT = 200
log = logging.getLogger(__name__)


def run_of(event: BillingEvent, system: str) -> tuple[ExternalRef, str, float] | None:
    """The invoice run an event starts: (invoice, phase, time), or None."""
    data = event.payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        return None
    if obj.get("object") == "invoice_payment":  # a part of an invoice paid
        invoice_id, payment = obj.get("invoice"), obj.get("id")
        phase = phase_of(event.event_type, 0, payment if isinstance(payment, str) else None)
    elif obj.get("object", "invoice") == "invoice":
        invoice_id, attempts = obj.get("id"), obj.get("attempt_count")
        phase = phase_of(event.event_type, attempts if type(attempts) is int else 0)
    else:
        return None
    if phase is None or not isinstance(invoice_id, str) or not invoice_id:
        return None
    created = event.payload.get("created")
    at = float(created) if type(created) is int else time.time()
    return ExternalRef(system=system, id=invoice_id), phase, at


async def accept(
    database: Engine, start: InvoiceStarter | None, event: BillingEvent, system: str
) -> events.Recorded:
    """Record ``event`` once, then start (or attach to) the run it calls for."""
    recorded = await asyncio.to_thread(events.record_billing_event, database, event)
    run = run_of(event, system)
    if run is not None and start is not None:
        await start(*run)
    return recorded


async def pull_once(engine: Engine, feed: BillingEventFeed, start: InvoiceStarter) -> int:
    """One pass over the billing system's newest invoice events; how many were new."""
    new = 0
    for event in await feed.invoice_events(PULL_LIMIT):
        recorded = await accept(engine, start, event, feed.system)
        new += recorded.new
    return new


async def poll_forever(
    engine: Engine,
    feed: BillingEventFeed,
    start: InvoiceStarter,
    stop: asyncio.Event,
    interval_s: float,
) -> None:
    """Pull every ``interval_s`` until ``stop``; a failed pass is logged and tried again."""
    while not stop.is_set():
        try:
            await pull_once(engine, feed, start)
        except Exception as exc:  # the next pass tries again; the webhooks still arrive
            log.warning("billing event pull failed: %s", exc, extra={"system": feed.system})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)


__all__ = ["InvoiceStarter", "accept", "poll_forever", "pull_once", "run_of"]
