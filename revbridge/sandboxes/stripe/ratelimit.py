"""Stripe's request rate limiter: a token bucket per API key (i.e. per account).

Off by default. With ``rate_limit_per_s=25`` (Stripe's sandbox-mode limit) a key may
burst 25 requests and then sustain 25 per second; beyond that the request gets a
429 ``rate_limit`` error with no quota headers, as Stripe answers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    def __init__(self, per_second: float | None) -> None:
        self.per_second = per_second
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, key: str) -> bool:
        """Take one token for ``key``; False when the bucket is empty."""
        rate = self.per_second
        if not rate:
            return True
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=rate, stamp=now)
        bucket.tokens = min(rate, bucket.tokens + (now - bucket.stamp) * rate)
        bucket.stamp = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def reset(self) -> None:
        self._buckets.clear()
