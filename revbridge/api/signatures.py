"""Stripe's webhook signatures: ``Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>]``.

The signature is HMAC-SHA256 with the endpoint's secret over ``f"{t}.{raw body}"``; any
``v1`` may match (Stripe sends several while a secret rolls), compared in constant time.
A timestamp more than ``TOLERANCE_S`` (300 s) away from now is refused, so a captured
delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac

TOLERANCE_S = 300


class SignatureError(ValueError):
    """The body is unsigned, forged or too old."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value Stripe would send (used by tests and the docs' examples)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(header: str | None, body: bytes, secret: str, now: float) -> None:
    """Raise :class:`SignatureError` unless ``header`` signs ``body`` with ``secret``."""
    if not header:
        raise SignatureError("no Stripe-Signature header")
    timestamp, candidates = None, []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("Stripe-Signature has no timestamp or no v1 signature")
    if abs(now - timestamp) > TOLERANCE_S:
        raise SignatureError(f"signature timestamp is more than {TOLERANCE_S} s old")
    expected = sign(secret, body, timestamp).rpartition("v1=")[2]
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(candidate.encode(), expected.encode())
    if not matched:
        raise SignatureError("no v1 signature matches")
