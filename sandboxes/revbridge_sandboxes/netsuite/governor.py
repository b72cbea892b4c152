"""Account concurrency governance: at most ``limit`` requests in flight at once.

NetSuite counts every web services request of an account against one limit; a request
arriving while the limit is used up is refused at once (REST: HTTP 429 with
``CONCURRENCY_LIMIT_EXCEEDED``), it does not queue. Each admitted request holds its slot
for the sandbox's ``service_time_ms`` plus its own handling, which lets benchmarks
reproduce NetSuite's typical few hundred milliseconds per call.

All handlers run on one event loop, so the counters change only between awaits and
need no lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from revbridge_sandboxes.netsuite.errors import concurrency_exceeded


class Governor:
    def __init__(self, limit: Callable[[], int], service_time_ms: Callable[[], float]) -> None:
        self.limit = limit
        self.service_time_ms = service_time_ms
        self.in_flight = 0
        self.peak = 0
        self.admitted = 0
        self.rejected = 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the ``async with`` body; raise the 429 when none is free."""
        if self.in_flight >= self.limit():
            self.rejected += 1
            raise concurrency_exceeded()
        self.in_flight += 1
        self.admitted += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            delay = self.service_time_ms() / 1000
            if delay > 0:
                await asyncio.sleep(delay)
            yield
        finally:
            self.in_flight -= 1

    def figures(self) -> dict[str, Any]:
        return {
            "concurrency": {
                "limit": self.limit(),
                "in_flight": self.in_flight,
                "peak": self.peak,
                "admitted": self.admitted,
                "rejected": self.rejected,
                "service_time_ms": self.service_time_ms(),
            }
        }

    def reset(self) -> None:
        self.peak = self.in_flight
        self.admitted = 0
        self.rejected = 0
