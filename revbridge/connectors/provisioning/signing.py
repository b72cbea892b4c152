"""Standard Webhooks signatures (https://www.standardwebhooks.com).

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the signature is
``v1,`` and the base64 HMAC-SHA256 of it, keyed with the secret's bytes: the base64 text
after the ``whsec_`` prefix, decoded. A delivery retried keeps its ``webhook-id`` (the
receiver dedupes on it) but is signed again with the time of that attempt, so
:class:`WebhookSigningTransport` signs each request as it leaves, retries included.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable

import httpx

from revbridge.connectors.http import SigningTransport

__all__ = ["WHSEC_PREFIX", "WebhookSigningTransport", "signature", "signing_key"]

WHSEC_PREFIX = "whsec_"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def signing_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (the prefix may be left out).

    Raises ``ValueError`` (without the secret in it) when the rest is not base64.
    """
    encoded = secret.strip().removeprefix(WHSEC_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not a Standard Webhooks secret: write whsec_ and base64") from None
    if not key:
        raise ValueError("not a Standard Webhooks secret: the key is empty")
    return key


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of one delivery: ``v1,<base64 HMAC-SHA256>``."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    mac = hmac.new(key, content, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(mac).decode('ascii')}"


class WebhookSigningTransport(SigningTransport):
    """Stamps and signs each outgoing request (it carries its ``webhook-id``)."""

    def __init__(
        self,
        key: bytes,
        *,
        inner: Callable[[], httpx.AsyncBaseTransport] = httpx.AsyncHTTPTransport,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(inner=inner, clock=clock)
        self._key = key

    def __repr__(self) -> str:
        return "WebhookSigningTransport(***)"

    def sign(self, request: httpx.Request) -> None:
        timestamp = int(self._clock())
        webhook_id = request.headers[ID_HEADER]
        request.headers[TIMESTAMP_HEADER] = str(timestamp)
        request.headers[SIGNATURE_HEADER] = signature(
            self._key, webhook_id, timestamp, request.content
        )
