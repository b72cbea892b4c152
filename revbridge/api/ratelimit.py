"""Per-key rate limit: a token bucket per API key, decided by a pure function.

Each key may make ``rate`` requests per second on average and ``burst`` at once. A
request that finds the bucket empty is refused with the seconds until a token is back,
which the gate sends as ``Retry-After``.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Bucket:
    tokens: float
    at: float


def take(bucket: Bucket, now: float, rate: float, burst: int) -> tuple[Bucket, float]:
    """Take one token: ``(new bucket, 0.0)``, or ``(bucket, seconds to wait)`` when empty."""
    tokens = min(float(burst), bucket.tokens + (now - bucket.at) * rate)
    if tokens >= 1.0:
        return Bucket(tokens - 1.0, now), 0.0
    return Bucket(tokens, now), (1.0 - tokens) / rate


class RateLimiter:
    """Buckets by key id, in this process."""

    def __init__(self, rate: float = 50.0, burst: int = 100) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def check(self, key_id: str, now: float | None = None) -> int:
        """0 when allowed, else whole seconds to wait (at least 1)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key_id, Bucket(float(self.burst), now))
            self._buckets[key_id], wait = take(bucket, now, self.rate, self.burst)
        return 0 if wait == 0.0 else max(1, math.ceil(wait))
