"""A worker with REVBRIDGE_NATS_URL books a deal announced on revbridge.ingest.> once, however
often the producer publishes it."""

from __future__ import annotations

import asyncio
import json
import uuid

import nats
from acceptance_stack import Stack

from revbridge.canonical import ExternalRef
from revbridge.canonical.events import BusinessEvent, EventType
from revbridge.store import inbox
from revbridge.stream import jetstream
from revbridge.testing.factories import uk_subscription_order
from revbridge.testing.nats import NatsServer


def _closed_won(opportunity: str, event_id: str) -> dict[str, object]:
    deal = ExternalRef(system="salesforce", id=opportunity)
    order = uk_subscription_order().model_copy(update={"source": deal})
    event = BusinessEvent.create(
        EventType.OPPORTUNITY_CLOSED_WON,
        order,
        source="/cpq/partner-portal",
        correlationid=f"corr-{opportunity}",
    ).model_copy(update={"id": event_id})
    return dict(json.loads(event.model_dump_json(exclude_none=True)))


def test_a_deal_published_on_nats_is_booked_once(stack: Stack, nats_server: NatsServer) -> None:
    opportunity = stack.uk_deal()
    stack.close(opportunity)  # the CRM says Closed Won; the change feed is not polled here
    stack.env["REVBRIDGE_NATS_URL"] = nats_server.url
    stack.worker(None, "--poll", "0")
    event = _closed_won(opportunity, str(uuid.uuid4()))

    async def publish_twice() -> list[bool]:
        connection = await nats.connect(nats_server.url)
        try:
            js = connection.jetstream()
            await jetstream.ensure_streams(js)
            acks = []
            for _ in range(2):
                ack = await jetstream.publish(js, event, root=jetstream.INGEST.root)
                acks.append(bool(ack.duplicate))
            return acks
        finally:
            await connection.close()

    assert asyncio.run(publish_twice()) == [False, True]
    stack.activated(opportunity)
    counts = stack.counts()
    assert (counts["erp_orders"], counts["subscriptions"]) == (1, 1)
    with stack.engine.connect() as conn:
        assert inbox.count(conn) == 1
