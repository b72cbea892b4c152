"""Push delivery of change events to webhooks: a sandbox convenience, not a Salesforce API.

Real Salesforce change events are pulled (Pub/Sub API or CometD; see :mod:`.cometd`).
For tests and the demo, the sandbox can also POST every event to subscriber URLs: the
body is the event as JSON (``schema``, ``payload``, ``event``, ``channel``), signed the
Standard Webhooks way: ``webhook-id`` (the event's ``EventUuid``), ``webhook-timestamp``
(unix seconds) and ``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``.
A ``whsec_``-prefixed secret is base64-decoded to get the key, as Standard Webhooks
libraries do; any other secret is used as UTF-8 bytes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from revbridge_sandboxes.salesforce.cdc import ChangeEvent
from revbridge_sandboxes.webhooks import HeaderFactory, WebhookSender

DEFAULT_SECRET = "whsec_" + base64.b64encode(b"revbridge-salesforce-sandbox-cdc").decode()


def signing_key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            pass
    return secret.encode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Subscriber:
    id: str
    url: str
    secret: str
    #: Entities whose events are sent; empty means all.
    entities: tuple[str, ...] = ()

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "entities": list(self.entities)}


class ChangeRelay:
    """Sends each published change event to every matching subscriber."""

    def __init__(self, sender: WebhookSender, urls: Sequence[str], secret: str) -> None:
        self.sender = sender
        self.configured = [Subscriber(f"cfg_{i}", url, secret) for i, url in enumerate(urls)]
        self.added: dict[str, Subscriber] = {}

    def subscribers(self) -> list[Subscriber]:
        return [*self.configured, *self.added.values()]

    def add(self, url: str, secret: str, entities: Sequence[str] = ()) -> Subscriber:
        sub = Subscriber("sub_" + secrets.token_hex(8), url, secret, tuple(entities))
        self.added[sub.id] = sub
        return sub

    def remove(self, sub_id: str) -> bool:
        return self.added.pop(sub_id, None) is not None

    def reset(self) -> None:
        self.added.clear()

    def delivery_log(self) -> dict[str, Any]:
        return {"cdc_delivery": asdict(self.sender.log)}

    def __call__(self, events: list[ChangeEvent]) -> None:
        subscribers = self.subscribers()
        if not subscribers:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # published outside the server loop: the events stay readable by pull
        for event in events:
            body = event.flat()
            for sub in subscribers:
                if not sub.entities or event.entity in sub.entities:
                    self.sender.enqueue(sub.url, body, _headers(sub.secret, event.uuid))


def _headers(secret: str, msg_id: str) -> HeaderFactory:
    def build(body: bytes) -> dict[str, str]:
        timestamp = int(time.time())
        return {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body),
        }

    return build
