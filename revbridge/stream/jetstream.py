"""The event stream on NATS JetStream: stream set-up, deduplicated publishing, the outbox
relay from the embedded log, replay by sequence.

Two streams, one configuration (:class:`StreamSpec`):

- ``REVBRIDGE_EVENTS`` (``revbridge.events.>``): what revbridge published. The subject
  is the event type without its ``com.revbridge.`` prefix
  (``revbridge.events.order.accepted``).
- ``REVBRIDGE_INGEST`` (``revbridge.ingest.>``): canonical events from other producers,
  read by the ingress consumer (``revbridge.ingress.nats_consumer``).

Both use file storage, keep messages 7 days (the inbox's retention) and deduplicate
publishes by the ``Nats-Msg-Id`` header for 15 minutes. The header is always the
canonical event's ``id`` — derived from the source's own event id where there is one, and
fixed once the event is in the embedded log — so a publish retried after a lost PubAck
is stored once (the PubAck says ``duplicate``).

The relay (:func:`relay_once`) mirrors the embedded log: it reads the events after a
durable watermark, publishes each, waits for every PubAck and only then advances the
watermark. A crash in between re-publishes the batch; the dedup window drops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    PubAck,
    StorageType,
    StreamConfig,
    StreamInfo,
)
from nats.js.errors import NotFoundError
from sqlalchemy import Engine

from revbridge.store import counters
from revbridge.stream import sql_log

log = logging.getLogger(__name__)

TYPE_PREFIX = "com.revbridge."
MSG_ID = "Nats-Msg-Id"
OFFSET_HEADER = "Revbridge-Log-Offset"
RELAY_WATERMARK = "jetstream_relay"
DUPLICATE_WINDOW_S = 15 * 60.0
MAX_AGE_S = 7 * 24 * 3600.0
_TOKEN = re.compile(r"[^A-Za-z0-9_\-]")


@dataclass(frozen=True)
class StreamSpec:
    """A stream's name, subject root and limits."""

    name: str
    root: str
    replicas: int = 1
    duplicate_window_s: float = DUPLICATE_WINDOW_S
    max_age_s: float = MAX_AGE_S

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            description="revbridge canonical events (CloudEvents JSON)",
            subjects=[f"{self.root}.>"],
            storage=StorageType.FILE,
            num_replicas=self.replicas,
            duplicate_window=self.duplicate_window_s,
            max_age=self.max_age_s,
        )


EVENTS = StreamSpec("REVBRIDGE_EVENTS", "revbridge.events")
INGEST = StreamSpec("REVBRIDGE_INGEST", "revbridge.ingest")


@dataclass(frozen=True)
class StreamEvent:
    """One event read back from a stream."""

    seq: int
    subject: str
    event: dict[str, Any]


async def connect(url: str) -> NatsClient:
    """A client that keeps reconnecting (the stream survives server restarts)."""
    return await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.5)


def subject_for(event_type: str, root: str = EVENTS.root) -> str:
    """``com.revbridge.order.accepted`` → ``revbridge.events.order.accepted``."""
    name = event_type.removeprefix(TYPE_PREFIX)
    tokens = [_TOKEN.sub("_", token) for token in name.split(".") if token]
    return ".".join([root, *(tokens or ["unknown"])])


async def ensure_stream(
    js: JetStreamContext, spec: StreamSpec, *, update: bool = True
) -> StreamInfo:
    """Create the stream; when it exists, update it to ``spec`` (unless ``update`` is
    False: workers leave an operator's configuration alone)."""
    try:
        info = await js.stream_info(spec.name)
    except NotFoundError:
        return await js.add_stream(spec.config())
    return await js.update_stream(spec.config()) if update else info


async def ensure_streams(js: JetStreamContext, replicas: int = 1) -> list[StreamInfo]:
    """Both of revbridge's streams with ``replicas`` copies each."""
    specs = [EVENTS, INGEST]
    return [await ensure_stream(js, StreamSpec(s.name, s.root, replicas=replicas)) for s in specs]


async def publish(
    js: JetStreamContext,
    event: dict[str, Any],
    *,
    root: str = EVENTS.root,
    offset: int | None = None,
    timeout_s: float = 5.0,
) -> PubAck:
    """Publish a CloudEvents-shaped dict, deduplicated by its id; waits for the PubAck
    (``duplicate=True`` when the stream already holds that id)."""
    headers = {MSG_ID: str(event["id"])}
    if offset is not None:
        headers[OFFSET_HEADER] = str(offset)
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    return await js.publish(
        subject_for(str(event["type"]), root), body, timeout=timeout_s, headers=headers
    )


@dataclass(frozen=True)
class RelayBatch:
    """What one relay round did."""

    published: int  # new messages in the stream
    duplicates: int  # publishes the stream already held (a replay after a crash)
    watermark: int  # the embedded log offset now known to be in the stream


async def relay_once(engine: Engine, js: JetStreamContext, limit: int = 500) -> RelayBatch:
    """Publish the embedded log's events after the watermark, then advance it."""
    after = await asyncio.to_thread(_read_watermark, engine)
    logged = await asyncio.to_thread(sql_log.read, engine, after, limit)
    published = duplicates = 0
    for row in logged:
        ack = await publish(js, row.event, offset=row.offset)
        if ack.duplicate:
            duplicates += 1
        else:
            published += 1
    if not logged:
        return RelayBatch(0, 0, after)
    await asyncio.to_thread(_save_watermark, engine, logged[-1].offset)
    return RelayBatch(published, duplicates, logged[-1].offset)


def _read_watermark(engine: Engine) -> int:
    with engine.connect() as conn:
        return counters.watermark(conn, RELAY_WATERMARK) or 0


def _save_watermark(engine: Engine, offset: int) -> None:
    with engine.begin() as conn:
        counters.set_watermark(conn, RELAY_WATERMARK, offset)


async def relay_forever(
    engine: Engine, js: JetStreamContext, stop: asyncio.Event, interval_s: float = 0.5
) -> None:
    """Relay until ``stop``; failures are logged and the batch is retried."""
    while not stop.is_set():
        try:
            batch = await relay_once(engine, js)
        except Exception:
            log.exception("jetstream relay: round failed; retrying")
            batch = RelayBatch(0, 0, 0)
        if not batch.published and not batch.duplicates:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)


async def replay(
    js: JetStreamContext, from_seq: int, durable: str, spec: StreamSpec = EVENTS
) -> JetStreamContext.PullSubscription:
    """A durable pull consumer that delivers the stream from sequence ``from_seq`` on."""
    config = ConsumerConfig(
        durable_name=durable,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=max(from_seq, 1),
        ack_policy=AckPolicy.EXPLICIT,
    )
    return await js.pull_subscribe(
        f"{spec.root}.>", durable=durable, stream=spec.name, config=config
    )


async def read(
    js: JetStreamContext,
    after_seq: int = 0,
    limit: int = 100,
    spec: StreamSpec = EVENTS,
    timeout_s: float = 2.0,
) -> list[StreamEvent]:
    """Up to ``limit`` events with a sequence greater than ``after_seq``, in order."""
    state = (await js.stream_info(spec.name)).state
    start = max(after_seq + 1, state.first_seq)
    wanted = min(limit, state.last_seq - start + 1)
    if wanted <= 0:
        return []
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=start,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=60.0,
        mem_storage=True,
    )
    sub = await js.pull_subscribe(f"{spec.root}.>", stream=spec.name, config=config)
    found: list[StreamEvent] = []
    try:
        while len(found) < wanted:
            try:
                msgs = await sub.fetch(wanted - len(found), timeout=timeout_s)
            except TimeoutError:
                break  # fewer left than the stream state said (deleted or aged out)
            found.extend(
                StreamEvent(m.metadata.sequence.stream, m.subject, json.loads(m.data)) for m in msgs
            )
    finally:
        await sub.unsubscribe()
        with contextlib.suppress(NotFoundError):
            if config.name:  # set by pull_subscribe: the ephemeral consumer's name
                await js.delete_consumer(spec.name, config.name)
    return found
