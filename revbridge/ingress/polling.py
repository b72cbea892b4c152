"""Pull ingress: read the CRM change feed after a durable watermark, accept each change.

The watermark advances only after every change of the batch was accepted (recorded in the
inbox and its flow started), so a crash re-reads the batch and the inbox drops what it
already has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import Engine

from revbridge.ingress.deals import ClosedWon, Starter, accept
from revbridge.ports import ChangeFeedPort
from revbridge.store import counters

log = logging.getLogger(__name__)


async def poll_once(engine: Engine, feed: ChangeFeedPort, start: Starter, limit: int = 500) -> int:
    """Process one batch; returns how many closed-won changes it carried."""

    def read_mark() -> int | None:
        with engine.connect() as conn:
            return counters.watermark(conn, feed.system)

    after = await asyncio.to_thread(read_mark)
    changes, position = await feed.read_changes(after, limit)
    for change in changes:
        await accept(
            engine,
            start,
            ClosedWon(
                source=feed.system,
                event_id=change.event_id,
                deal=change.deal,
                version=change.version,
                occurred_at=change.occurred_at,
                payload={"deal": str(change.deal), "position": change.position},
            ),
        )
    if position is not None and position != after:

        def save() -> None:
            with engine.begin() as conn:
                counters.set_watermark(conn, feed.system, position)

        await asyncio.to_thread(save)
    return len(changes)


async def poll_forever(
    engine: Engine,
    feed: ChangeFeedPort,
    start: Starter,
    stop: asyncio.Event,
    interval_s: float = 1.0,
) -> None:
    """Poll until ``stop`` is set; errors are logged and retried on the next round."""
    while not stop.is_set():
        try:
            found = await poll_once(engine, feed, start)
        except Exception:
            log.exception("change feed %s: poll failed; retrying", feed.system)
            found = 0
        if not found:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
