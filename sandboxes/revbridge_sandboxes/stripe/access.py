"""Who may call and how often: API-key authentication and Stripe's rate limiter.

Keys come as ``Authorization: Bearer sk_test_…`` or Basic with the key as user name.
An unknown key gets Stripe's 401 with the key masked (prefix, stars, last four);
the full key is never echoed back.

The rate limiter is a token bucket per API key (i.e. per account), off by default.
With ``rate_limit_per_s=25`` (Stripe's sandbox-mode limit) a key may burst 25
requests and then sustain 25 per second; beyond that the request gets a 429
``rate_limit`` error with no quota headers, as Stripe answers.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass

from revbridge_sandboxes.stripe.errors import NO_KEY_MESSAGE, StripeError

_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Stripe"'}
_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_")


def mask(key: str) -> str:
    """``sk_test_abcdef1234`` → ``sk_test_******1234``, as Stripe prints keys."""
    prefix = next((p for p in _PREFIXES if key.startswith(p)), "")
    rest = key[len(prefix) :]
    if len(rest) <= 4:
        return prefix + "*" * len(rest)
    return prefix + "*" * (len(rest) - 4) + rest[-4:]


def key_from_header(header: str | None) -> str | None:
    """The API key carried by an Authorization header, or None if there is none."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def authenticate(header: str | None, keys: frozenset[str]) -> str:
    """Return the caller's API key or raise Stripe's 401."""
    key = key_from_header(header)
    if key is None:
        raise StripeError(401, NO_KEY_MESSAGE, headers=_CHALLENGE)
    if key not in keys:
        raise StripeError(401, f"Invalid API Key provided: {mask(key)}", headers=_CHALLENGE)
    if key.startswith("pk_"):
        raise StripeError(
            401,
            "This API call cannot be made with a publishable API key. Please use a secret API key.",
        )
    return key


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
