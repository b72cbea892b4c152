"""NATS ingress: a durable pull consumer of canonical events published by other producers.

Each message on ``revbridge.ingest.>`` (stream ``REVBRIDGE_INGEST``) must be a revbridge
CloudEvent in structured JSON with an explicit ``id``. What happens to it:

- **valid** → in ONE transaction: recorded in the inbox (by source and id), and when new,
  appended to the event log with its audit entry (as ``POST /v1/events`` does); a new
  ``opportunity.closed_won`` also registers its deal. The transaction COMMITS, then a
  closed-won deal is handed to the starter (idempotent by workflow id: a redelivery
  attaches to the same flow), and only then ``AckSync`` — the ack the server confirms.
  A crash anywhere before the confirmed ack means a redelivery, which the inbox drops.
- **invalid** (not JSON :func:`~revbridge.ingress.payloads.read_json` reads, not a
  revbridge event, no id, an id or extension attribute with control or bidi characters)
  → an audit entry ``event.rejected`` and ``term()``: never redelivered.
- **store or starter failure** → ``nak`` with a delay: redelivered, up to ``max_deliver``.

``ack_wait`` must exceed the longest time one message can take (commit + start);
otherwise the server redelivers while the first delivery is still working (the inbox
still keeps the effect single).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy import Connection, Engine

from revbridge.canonical import ExternalRef, correlation_id_for
from revbridge.canonical.commerce import Order
from revbridge.canonical.events import BusinessEvent, EventType
from revbridge.config.settings import Settings
from revbridge.flows.quote_to_cash import workflow_id
from revbridge.ingress.deals import Starter
from revbridge.ingress.payloads import PayloadError, read_json
from revbridge.store import audit, deals, inbox
from revbridge.store.inbox import InboundEvent, Outcome
from revbridge.stream import jetstream, sql_log

log = logging.getLogger(__name__)
ACTOR = "nats:ingest"


@dataclass(frozen=True)
class ConsumerSpec:
    """The durable consumer's name, subjects and redelivery limits."""

    durable: str = "revbridge-ingress"
    stream: jetstream.StreamSpec = jetstream.INGEST
    ack_wait_s: float = 30.0
    max_deliver: int = 20
    nak_delay_s: float = 2.0
    batch: int = 50

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.durable,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_s,
            max_deliver=self.max_deliver,
            filter_subject=f"{self.stream.root}.>",
        )


class Verdict(StrEnum):
    ACCEPTED = "accepted"  # new in the inbox; committed, started, acknowledged
    DUPLICATE = "duplicate"  # the inbox had it; acknowledged
    REJECTED = "rejected"  # not a valid event; recorded as a problem and terminated
    RETRY = "retry"  # store or starter failed; nak'ed, it comes back


class InvalidEventError(ValueError):
    """The message is not a revbridge event this consumer can take."""


async def subscribe(js: JetStreamContext, spec: ConsumerSpec) -> JetStreamContext.PullSubscription:
    """Create (or update) the durable consumer and bind a pull subscription to it."""
    await js.add_consumer(spec.stream.name, config=spec.config())
    return await js.pull_subscribe_bind(durable=spec.durable, stream=spec.stream.name)


def parse(body: bytes) -> BusinessEvent:
    """The canonical event in a message body; :class:`InvalidEventError` otherwise."""
    try:
        raw = read_json(body)
    except PayloadError as exc:
        raise InvalidEventError(f"not JSON: {exc.detail}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise InvalidEventError("not a structured CloudEvent with an id")
    try:
        event = BusinessEvent.model_validate(raw)
    except ValidationError as exc:
        raise InvalidEventError(f"not a revbridge event: {_first_error(exc)}") from exc
    if event.type is EventType.OPPORTUNITY_CLOSED_WON and not isinstance(event.data, Order):
        raise InvalidEventError("opportunity.closed_won must carry the order package")
    too_long = [name for name, value, limit in _inbox_fields(event) if len(value) > limit]
    if too_long:
        raise InvalidEventError(f"too long for the inbox: {', '.join(too_long)}")
    return event


def _inbox_fields(event: BusinessEvent) -> list[tuple[str, str, int]]:
    """The inbox's column widths (``rb_inbox``): longer values could never be recorded."""
    return [
        ("id", event.id, 200),
        ("source", event.source, 200),
        ("correlationid", event.correlationid, 100),
    ]


def _first_error(exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"[:300]


async def handle(engine: Engine, start: Starter, msg: Msg, spec: ConsumerSpec) -> Verdict:
    """Take one message: commit, start, then AckSync (see the module docstring)."""
    try:
        event = parse(msg.data)
    except InvalidEventError as exc:
        return await _reject(engine, msg, str(exc), spec)
    try:
        outcome = await asyncio.to_thread(_record, engine, event)
        deal = _deal_of(event)
        if deal is not None:
            await start(deal, correlation_id_for(deal))
    except Exception:
        log.exception("nats ingress: %s#%s not taken; redelivering", event.source, event.id)
        await msg.nak(delay=spec.nak_delay_s)
        return Verdict.RETRY
    try:
        await msg.ack_sync()
    except (NatsError, TimeoutError):
        log.warning(
            "nats ingress: ack of %s#%s unconfirmed; it may come back", event.source, event.id
        )
        return Verdict.RETRY
    return Verdict.ACCEPTED if outcome is Outcome.NEW else Verdict.DUPLICATE


def _deal_of(event: BusinessEvent) -> ExternalRef | None:
    if event.type is EventType.OPPORTUNITY_CLOSED_WON and isinstance(event.data, Order):
        return event.data.source
    return None


def _record(engine: Engine, event: BusinessEvent) -> Outcome:
    structured: dict[str, Any] = json.loads(event.model_dump_json(exclude_none=True))
    deal = _deal_of(event)
    inbound = InboundEvent(
        source=event.source,
        event_id=event.id,
        event_type=event.type.ce_type,
        payload=structured,
        business_key=None if deal is None else f"deal:{deal}",
        business_version=None if deal is None else f"order-v{_order_version(event)}",
        correlation_id=event.correlationid,
    )
    with engine.begin() as conn:
        outcome = inbox.record(conn, inbound)
        if outcome is Outcome.NEW:
            _take(conn, event, structured, deal)
    return outcome


def _order_version(event: BusinessEvent) -> int:
    return event.data.version if isinstance(event.data, Order) else 0


def _take(
    conn: Connection, event: BusinessEvent, structured: dict[str, Any], deal: ExternalRef | None
) -> None:
    offset = sql_log.append(conn, structured)
    audit.append(
        conn,
        actor=ACTOR,
        action="event.ingested",
        subject=f"{event.source}#{event.id}",
        after={"type": event.type.ce_type, "offset": offset},
        correlation_id=event.correlationid,
    )
    if deal is not None:
        deals.register(
            conn, str(deal), workflow_id(deal), correlation_id_for(deal), closed_at=event.time
        )


async def _reject(engine: Engine, msg: Msg, reason: str, spec: ConsumerSpec) -> Verdict:
    where = f"{msg.metadata.stream}#{msg.metadata.sequence.stream}"
    log.warning("nats ingress: %s on %s terminated: %s", where, msg.subject, reason)

    def record() -> None:
        with engine.begin() as conn:
            audit.append(
                conn,
                actor=ACTOR,
                action="event.rejected",
                subject=f"nats:{where}",
                after={"subject": msg.subject, "reason": reason},
            )

    try:
        await asyncio.to_thread(record)
    except Exception:
        log.exception("nats ingress: could not record the rejection of %s", where)
        await msg.nak(delay=spec.nak_delay_s)
        return Verdict.RETRY
    await msg.term()
    return Verdict.REJECTED


async def consume_once(
    engine: Engine,
    start: Starter,
    sub: JetStreamContext.PullSubscription,
    spec: ConsumerSpec,
    wait_s: float = 1.0,
) -> list[Verdict]:
    """Fetch one batch and take each message in order; [] when none came within ``wait_s``."""
    try:
        msgs = await sub.fetch(spec.batch, timeout=wait_s)
    except TimeoutError:
        return []
    return [await handle(engine, start, msg, spec) for msg in msgs]


async def run_consumer(
    engine: Engine,
    start: Starter,
    nats_url: str,
    stop: asyncio.Event,
    spec: ConsumerSpec | None = None,
) -> None:
    """Consume ``revbridge.ingest.>`` until ``stop``; a lost server or a failed start is
    logged and retried (the stream is created when missing, never changed)."""
    spec = spec or ConsumerSpec()
    while not stop.is_set():
        try:
            await _consume_connected(engine, start, nats_url, stop, spec)
        except Exception:
            log.exception("nats ingress: consumer failed; reconnecting")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=spec.nak_delay_s)


async def run_configured(
    engine: Engine, start: Starter, settings: Settings, stop: asyncio.Event
) -> None:
    """:func:`run_consumer` with the process settings; returns at once without
    ``REVBRIDGE_NATS_URL`` (the embedded log is in use)."""
    if settings.nats_url is None:
        return
    spec = ConsumerSpec(
        ack_wait_s=settings.stream_ack_wait_s, max_deliver=settings.stream_max_deliver
    )
    await run_consumer(engine, start, settings.nats_url.get_secret_value(), stop, spec)


async def _consume_connected(
    engine: Engine, start: Starter, nats_url: str, stop: asyncio.Event, spec: ConsumerSpec
) -> None:
    nc = await jetstream.connect(nats_url)
    try:
        js = nc.jetstream()
        await jetstream.ensure_stream(js, spec.stream, update=False)
        sub = await subscribe(js, spec)
        while not stop.is_set():
            await consume_once(engine, start, sub, spec)
    finally:
        await nc.close()
