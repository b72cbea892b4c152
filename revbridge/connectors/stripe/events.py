"""Stripe's webhook events: the signature, the event, and what it means canonically.

``Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>]`` is HMAC-SHA256 with the
endpoint's secret over ``f"{t}.{raw body}"``; any ``v1`` may match (Stripe sends several
while a secret rolls), compared in constant time. A timestamp more than ``TOLERANCE_S``
(300 s) away from now is refused, so a captured delivery cannot be replayed later.

A signed body is read by :func:`~revbridge.ingress.payloads.read_json` (nested too deep,
not UTF-8 or not Unicode, NUL in a string: refused) and must be an object with an
``evt_`` id of visible characters. The types in :data:`STRIPE_EVENTS` become canonical
events; the rest are recorded only.

:class:`StripeEvents` is the :class:`~revbridge.ports.BillingEventsPort` on Stripe.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from revbridge.canonical.events import BusinessEvent, EventType
from revbridge.canonical.ids import check_id_characters
from revbridge.config.systems import StripeSystem
from revbridge.errors import AuthError
from revbridge.ingress.payloads import read_json
from revbridge.observability import redaction
from revbridge.ports import BillingEvent

TOLERANCE_S = 300
SOURCE = "stripe"
#: Stripe event type → the canonical event it becomes (others are recorded only).
STRIPE_EVENTS: dict[str, EventType] = {
    "invoice.finalized": EventType.INVOICE_POSTED,
    "invoice.paid": EventType.PAYMENT_RECEIVED,
    "invoice.payment_failed": EventType.PAYMENT_FAILED,
    "invoice_payment.paid": EventType.PAYMENT_RECEIVED,  # a part of an invoice paid
}
_NAMESPACE = uuid.UUID("6f1f4d1e-4c5b-4e3e-9a57-2f0f6f9b1c11")


class SignatureError(AuthError):
    """The body is unsigned, forged or too old."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header value Stripe would send (used by tests and the docs' examples)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(header: str | None, body: bytes, secret: str, now: float) -> None:
    """Raise :class:`SignatureError` unless ``header`` signs ``body`` with ``secret``."""
    if not header:
        raise SignatureError("no Stripe-Signature header", code="signature")
    timestamp, candidates = None, []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError(
            "Stripe-Signature has no timestamp or no v1 signature", code="signature"
        )
    if abs(now - timestamp) > TOLERANCE_S:
        raise SignatureError(
            f"signature timestamp is more than {TOLERANCE_S} s old", code="signature"
        )
    expected = sign(secret, body, timestamp).rpartition("v1=")[2]
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(candidate.encode(), expected.encode())
    if not matched:
        raise SignatureError("no v1 signature matches", code="signature")


def is_event_id(value: Any) -> bool:
    """An ``evt_…`` id of visible characters."""
    if not isinstance(value, str) or not value.startswith("evt_"):
        return False
    try:
        check_id_characters(value)
    except ValueError:
        return False
    return True


def canonical_event(event: dict[str, Any]) -> BusinessEvent | None:
    """The canonical event a Stripe event stands for, if any (data: the Stripe ids)."""
    kind = STRIPE_EVENTS.get(str(event.get("type")))
    if kind is None:
        return None
    obj = event.get("data", {}).get("object", {}) if isinstance(event.get("data"), dict) else {}
    obj = obj if isinstance(obj, dict) else {}
    correlation = _correlation_of(obj) or f"stripe-{event['id']}"
    extra = {"stripeevent": str(event["id"])}
    if isinstance(obj.get("customer"), str):
        extra["stripecustomer"] = obj["customer"]
    created = event.get("created")
    when = {"time": datetime.fromtimestamp(created, UTC)} if type(created) is int else {}
    return BusinessEvent(
        id=str(uuid.uuid5(_NAMESPACE, str(event["id"]))),
        source="/stripe",
        type=kind,
        **when,
        subject=f"stripe:{obj['id']}" if isinstance(obj.get("id"), str) else None,
        correlationid=correlation[:128] if correlation.isascii() else f"stripe-{event['id']}",
        **extra,
    )


def _correlation_of(obj: dict[str, Any]) -> str | None:
    """The deal's correlation id revbridge put in the metadata of the Stripe object, or of
    the subscription an invoice bills (``parent.subscription_details`` on current API
    versions, ``subscription_details`` on older ones)."""
    parent = obj.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    for holder in (obj, details, obj.get("subscription_details")):
        metadata = holder.get("metadata") if isinstance(holder, dict) else None
        if isinstance(metadata, dict) and isinstance(metadata.get("correlation_id"), str):
            return str(metadata["correlation_id"])
    return None


class StripeEvents:
    """Stripe's webhook events for one endpoint secret (``credentials.webhook_secret``)."""

    def __init__(self, system: str, secret: str) -> None:
        self.system = system
        self._secret = secret

    def read_event(self, headers: Mapping[str, str], body: bytes, now: float) -> BillingEvent:
        verify(headers.get("stripe-signature"), body, self._secret, now)
        return billing_event(read_json(body))


def billing_event(event: Any) -> BillingEvent:
    """A Stripe event (pushed and verified, or read from ``/v1/events``) as revbridge
    records it; ``ValueError`` when it is not an event."""
    if not isinstance(event, dict) or not is_event_id(event.get("id")):
        raise ValueError("a Stripe event is an object with an evt_ id of visible characters")
    return BillingEvent(
        source=SOURCE,
        event_id=str(event["id"])[:200],
        event_type=str(event.get("type", "unknown"))[:100],
        payload=event,
        canonical=canonical_event(event),
    )


def build_events(
    system_name: str, system: StripeSystem, env: Mapping[str, str]
) -> StripeEvents | None:
    """The events of a ``kind: stripe`` system, when its ``credentials.webhook_secret``
    names a variable that is set (None otherwise: no endpoint to verify against)."""
    ref = system.credentials.get("webhook_secret")
    secret = env.get(ref.env) if ref is not None else None
    if not secret:
        return None
    redaction.register_secret(secret)
    return StripeEvents(system_name, secret)
