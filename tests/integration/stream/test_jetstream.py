"""The JetStream event stream against a real nats-server 2.15 (``sync_interval: always``)
and real SQLite and PostgreSQL: publish dedup, replay, crash-safe ingress and relay,
acknowledged writes surviving ``kill -9``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import pytest
from nats.js import JetStreamContext
from nats.js.api import AckPolicy
from pydantic import SecretStr
from sqlalchemy import Engine, select

from revbridge.canonical import ExternalRef
from revbridge.canonical.events import BusinessEvent, EventType
from revbridge.config.settings import Settings
from revbridge.flows.quote_to_cash import workflow_id
from revbridge.ingress import nats_consumer
from revbridge.ingress.nats_consumer import ConsumerSpec, Verdict
from revbridge.store import counters, deals, inbox
from revbridge.store.tables import audit_log
from revbridge.stream import jetstream, sql_log
from revbridge.stream.jetstream import EVENTS, INGEST, MSG_ID
from revbridge.testing.factories import OPPORTUNITY, uk_subscription_order
from revbridge.testing.nats import NatsServer

T = TypeVar("T")
FAST = ConsumerSpec(ack_wait_s=1.0, nak_delay_s=0.1)


def run(main: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(main(), timeout=20)

    return asyncio.run(bounded())


@asynccontextmanager
async def jetstream_of(server: NatsServer) -> AsyncIterator[JetStreamContext]:
    nc = await jetstream.connect(server.url)
    try:
        js = nc.jetstream()
        await jetstream.ensure_streams(js)
        yield js
    finally:
        await nc.close()


def order_event(n: int = 0) -> dict[str, Any]:
    event = BusinessEvent(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"test-event-{n}")),
        source="/revbridge/flows/quote_to_cash",
        type=EventType.ORDER_ACCEPTED,
        correlationid=f"corr-{n}",
        data=uk_subscription_order(),
    )
    return dict(event.model_dump(mode="json", exclude_none=True))


def closed_won_event(event_id: str = "cpq-evt-0001") -> dict[str, Any]:
    event = BusinessEvent(
        id=event_id,
        source="/partner/cpq",
        type=EventType.OPPORTUNITY_CLOSED_WON,
        correlationid="corr-cpq-1",
        data=uk_subscription_order(),
    )
    return dict(event.model_dump(mode="json", exclude_none=True))


class IdempotentStarter:
    """Starts a deal's flow once per workflow id, like ``runtime.start_deal`` (a second
    start of the same id attaches to the first)."""

    def __init__(self) -> None:
        self.workflows: list[str] = []
        self.calls = 0
        self.started = asyncio.Event()

    async def __call__(self, deal: ExternalRef, correlation_id: str) -> None:
        self.calls += 1
        if workflow_id(deal) not in self.workflows:
            self.workflows.append(workflow_id(deal))
        self.started.set()


def test_same_event_id_published_twice_is_stored_once(nats_server: NatsServer) -> None:
    async def main() -> None:
        async with jetstream_of(nats_server) as js:
            first = await jetstream.publish(js, order_event())
            again = await jetstream.publish(js, order_event())
            info = await js.stream_info(EVENTS.name)

        assert not first.duplicate
        assert again.duplicate is True
        assert again.seq == first.seq
        assert info.state.messages == 1
        assert info.config.subjects == ["revbridge.events.>"]
        assert info.config.duplicate_window == 900
        assert info.config.max_age is not None
        assert info.config.max_age >= 7 * 24 * 3600
        assert str(info.config.storage) in {"file", "StorageType.FILE"}

    run(main)


def test_subject_follows_the_event_type() -> None:
    order_accepted = jetstream.subject_for("com.revbridge.order.accepted")
    assert order_accepted == "revbridge.events.order.accepted"
    assert jetstream.subject_for("com.revbridge.x y.*", INGEST.root) == "revbridge.ingest.x_y._"


def test_replay_from_sequence_yields_that_sequence_on_in_order(nats_server: NatsServer) -> None:
    async def main() -> None:
        async with jetstream_of(nats_server) as js:
            for n in range(10):
                await jetstream.publish(js, order_event(n))
            read = await jetstream.read(js, after_seq=4, limit=100)
            page = await jetstream.read(js, after_seq=4, limit=3)
            past_end = await jetstream.read(js, after_seq=10)
            sub = await jetstream.replay(js, from_seq=5, durable="replay-test")
            replayed = await sub.fetch(10, timeout=2)

        assert [e.seq for e in read] == [5, 6, 7, 8, 9, 10]
        assert [e.event["id"] for e in read] == [order_event(n)["id"] for n in range(4, 10)]
        assert [e.seq for e in page] == [5, 6, 7]
        assert past_end == []
        assert [m.metadata.sequence.stream for m in replayed] == [5, 6, 7, 8, 9, 10]

    run(main)


def test_acknowledged_messages_survive_kill_9(nats_server: NatsServer) -> None:
    async def publish_all() -> list[int]:
        async with jetstream_of(nats_server) as js:
            return [(await jetstream.publish(js, order_event(n))).seq for n in range(50)]

    async def read_all() -> list[str]:
        async with jetstream_of(nats_server) as js:
            return [e.event["id"] for e in await jetstream.read(js, limit=1000)]

    acked = run(publish_all)
    nats_server.kill()
    nats_server.start()

    assert acked == list(range(1, 51))
    assert run(read_all) == [order_event(n)["id"] for n in range(50)]


def test_consumer_crash_before_ack_redelivers_and_starts_one_flow(
    store_engine: Engine, nats_server: NatsServer
) -> None:
    starter = IdempotentStarter()

    async def crash_after_commit() -> None:
        """The first consumer commits the inbox row, then dies before it acks."""
        reached = asyncio.Event()

        async def hangs(deal: ExternalRef, correlation_id: str) -> None:
            reached.set()
            await asyncio.Event().wait()

        nc = await jetstream.connect(nats_server.url)
        js = nc.jetstream()
        await jetstream.ensure_streams(js)
        await jetstream.publish(js, closed_won_event(), root=INGEST.root)
        sub = await nats_consumer.subscribe(js, FAST)
        task = asyncio.create_task(nats_consumer.consume_once(store_engine, hangs, sub, FAST))
        await reached.wait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await nc.close()

    async def restarted() -> list[list[Verdict]]:
        async with jetstream_of(nats_server) as js:
            sub = await nats_consumer.subscribe(js, FAST)
            redelivered = await nats_consumer.consume_once(store_engine, starter, sub, FAST, 5)
            other_id = closed_won_event() | {"time": "2025-01-02T00:00:00Z"}
            await js.publish(
                "revbridge.ingest.opportunity.closed_won",
                BusinessEvent.model_validate(other_id).model_dump_json().encode(),
                headers={MSG_ID: "another-msg-id"},
            )
            resent = await nats_consumer.consume_once(store_engine, starter, sub, FAST, 5)
            after_ack = await nats_consumer.consume_once(store_engine, starter, sub, FAST, 1.5)
            return [redelivered, resent, after_ack]

    run(crash_after_commit)
    with store_engine.connect() as conn:
        assert inbox.count(conn) == 1  # committed before the crash

    redelivered, resent, after_ack = run(restarted)

    assert redelivered == [Verdict.DUPLICATE]
    assert resent == [Verdict.DUPLICATE]
    assert after_ack == []  # AckSync confirmed: never delivered again
    assert starter.workflows == [workflow_id(OPPORTUNITY)]
    with store_engine.connect() as conn:
        assert inbox.count(conn) == 1
        assert inbox.duplicates_suppressed(conn) == 2
        assert deals.get(conn, str(OPPORTUNITY)) is not None
    assert sql_log.head(store_engine) == 1


def test_malformed_event_is_terminated_and_not_redelivered(
    store_engine: Engine, nats_server: NatsServer
) -> None:
    bodies = [
        b"not json",
        b'{"specversion": "1.0", "type": "com.revbridge.order.accepted"}',  # no id
        b'{"id": "x1", "source": "/p", "type": "com.example.other", "correlationid": "c"}',
        json.dumps(order_event() | {"id": "x" * 201}).encode(),  # longer than the inbox takes
    ]

    async def main() -> tuple[list[Verdict], list[Verdict], Any]:
        async with jetstream_of(nats_server) as js:
            for n, body in enumerate(bodies):
                await js.publish("revbridge.ingest.bad", body, headers={MSG_ID: f"bad-{n}"})
            sub = await nats_consumer.subscribe(js, FAST)
            starter = IdempotentStarter()
            first = await nats_consumer.consume_once(store_engine, starter, sub, FAST)
            later = await nats_consumer.consume_once(store_engine, starter, sub, FAST, 2)
            return first, later, await sub.consumer_info()

    first, later, info = run(main)

    assert first == [Verdict.REJECTED] * 4
    assert later == []
    assert info.num_ack_pending == 0
    assert info.config.ack_policy == AckPolicy.EXPLICIT
    assert (info.config.ack_wait, info.config.max_deliver) == (1.0, 20)
    assert info.num_redelivered == 0
    with store_engine.connect() as conn:
        actions = conn.execute(select(audit_log.c.action)).scalars().all()
        assert inbox.count(conn) == 0
    assert actions.count("event.rejected") == 4


def test_store_failure_is_redelivered_then_taken(
    store_engine: Engine, nats_server: NatsServer, sqlite_url: str
) -> None:
    from revbridge.store.db import create_store_engine

    unmigrated = create_store_engine(sqlite_url.replace("revbridge.db", "empty.db"))
    starter = IdempotentStarter()

    async def main() -> list[list[Verdict]]:
        async with jetstream_of(nats_server) as js:
            await jetstream.publish(js, closed_won_event(), root=INGEST.root)
            sub = await nats_consumer.subscribe(js, FAST)
            failed = await nats_consumer.consume_once(unmigrated, starter, sub, FAST)
            taken = await nats_consumer.consume_once(store_engine, starter, sub, FAST, 3)
            return [failed, taken]

    try:
        failed, taken = run(main)
    finally:
        unmigrated.dispose()

    assert failed == [Verdict.RETRY]
    assert taken == [Verdict.ACCEPTED]
    assert starter.workflows == [workflow_id(OPPORTUNITY)]


def test_relay_publishes_every_logged_event_once_across_a_crash(
    store_engine: Engine, nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def append(events: range) -> None:
        with store_engine.begin() as conn:
            for n in events:
                sql_log.append(conn, order_event(n))

    def crash(engine: Engine, offset: int) -> None:
        raise RuntimeError("killed before the watermark was saved")

    async def main() -> list[Any]:
        async with jetstream_of(nats_server) as js:
            with monkeypatch.context() as patched:
                patched.setattr(jetstream, "_save_watermark", crash)
                with pytest.raises(RuntimeError, match="killed"):
                    await jetstream.relay_once(store_engine, js)
            replayed = await jetstream.relay_once(store_engine, js)
            append(range(7, 10))
            rest = await jetstream.relay_once(store_engine, js)
            idle = await jetstream.relay_once(store_engine, js)
            stream = await jetstream.read(js, limit=100)
            return [replayed, rest, idle, stream]

    append(range(7))
    replayed, rest, idle, stream = run(main)

    assert (replayed.published, replayed.duplicates, replayed.watermark) == (0, 7, 7)
    assert (rest.published, rest.duplicates, rest.watermark) == (3, 0, 10)
    assert (idle.published, idle.duplicates) == (0, 0)
    assert [e.event["id"] for e in stream] == [order_event(n)["id"] for n in range(10)]
    assert [e.subject for e in stream] == ["revbridge.events.order.accepted"] * 10
    with store_engine.connect() as conn:
        assert counters.watermark(conn, jetstream.RELAY_WATERMARK) == 10


def test_running_consumer_takes_events_until_stopped(
    store_engine: Engine, nats_server: NatsServer
) -> None:
    settings = Settings(nats_url=SecretStr(nats_server.url), stream_ack_wait_s=5)
    starter = IdempotentStarter()

    async def main() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(
            nats_consumer.run_configured(store_engine, starter, settings, stop)
        )
        async with jetstream_of(nats_server) as js:
            await jetstream.publish(js, closed_won_event(), root=INGEST.root)
            await starter.started.wait()
            info = await js.consumer_info(INGEST.name, "revbridge-ingress")
        stop.set()
        await running
        assert (info.config.ack_wait, info.config.max_deliver) == (5, 20)

    run(main)

    assert starter.workflows == [workflow_id(OPPORTUNITY)]
    with store_engine.connect() as conn:
        assert inbox.count(conn) == 1
