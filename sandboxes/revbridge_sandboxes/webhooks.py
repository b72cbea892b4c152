"""Outbound webhook delivery for sandboxes, with duplicate and out-of-order faults.

A sandbox calls :meth:`WebhookSender.enqueue` with the target URL, the raw body and a
function that builds the headers at send time (so signatures carry the real send
timestamp). A background task delivers in order, retries failures with backoff like
the vendors do, and applies the :class:`~revbridge_sandboxes.faults.WebhookFaults`
of the sandbox's injector. ``await sender.drain()`` waits until everything queued
has been delivered or given up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from revbridge_sandboxes.faults import FaultInjector

HeaderFactory = Callable[[bytes], dict[str, str]]


@dataclass
class Delivery:
    url: str
    body: bytes
    headers: HeaderFactory
    attempts: int = 0


@dataclass
class DeliveryLog:
    """What happened to outbound webhooks, shown in ``/_sandbox/state``."""

    delivered: int = 0
    duplicated: int = 0
    reordered: int = 0
    failed_attempts: int = 0
    given_up: int = 0
    last_errors: list[str] = field(default_factory=list)


class WebhookSender:
    """Delivers webhooks from one sandbox; create it inside the app, one per sandbox."""

    def __init__(
        self,
        injector: FaultInjector,
        max_attempts: int = 5,
        backoff_s: float = 0.2,
        timeout_s: float = 10.0,
    ) -> None:
        self.injector = injector
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.log = DeliveryLog()
        self._queue: asyncio.Queue[Delivery] | None = None
        self._task: asyncio.Task[None] | None = None
        self._held: Delivery | None = None

    def enqueue(self, url: str, body: bytes, headers: HeaderFactory) -> None:
        """Queue one delivery; must be called from the running event loop."""
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._run(self._queue))
        self._queue.put_nowait(Delivery(url, body, headers))

    async def drain(self) -> None:
        """Wait until every queued delivery was sent or given up."""
        if self._queue is not None:
            await self._queue.join()

    async def _run(self, queue: asyncio.Queue[Delivery]) -> None:
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            while True:
                delivery = await queue.get()
                try:
                    await self._dispatch(client, delivery, queue)
                finally:
                    queue.task_done()

    async def _dispatch(
        self, client: httpx.AsyncClient, delivery: Delivery, queue: asyncio.Queue[Delivery]
    ) -> None:
        faults = self.injector.config.webhooks
        if self._held is None and queue.qsize() > 0 and self.injector.chance(faults.reorder_rate):
            self._held = delivery  # sent after the next one
            self.log.reordered += 1
            return
        await self._send(client, delivery)
        if self.injector.chance(faults.duplicate_rate):
            self.log.duplicated += 1
            await self._send(client, Delivery(delivery.url, delivery.body, delivery.headers))
        if self._held is not None:
            held, self._held = self._held, None
            await self._send(client, held)

    async def _send(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        while delivery.attempts < self.max_attempts:
            delivery.attempts += 1
            try:
                response = await client.post(
                    delivery.url, content=delivery.body, headers=delivery.headers(delivery.body)
                )
                if response.status_code < 300:
                    self.log.delivered += 1
                    return
                error = f"{delivery.url}: HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                error = f"{delivery.url}: {type(exc).__name__}"
            self.log.failed_attempts += 1
            self.log.last_errors = [*self.log.last_errors[-9:], error]
            await asyncio.sleep(self.backoff_s * 2 ** (delivery.attempts - 1))
        self.log.given_up += 1
