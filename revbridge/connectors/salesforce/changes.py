"""Change Data Capture for ingress: closed-won signals and pushed-webhook signatures.

Pure functions, no I/O. :func:`closed_won_signals` reads one Opportunity change event
(CometD ``data``, a Bayeux message wrapping it, or the pushed webhook body) and returns
one :class:`DealSignal` per opportunity the change closed as won. :func:`verify_push`
checks a pushed change event's Standard Webhooks signature.

**Deduplication and versions.** ``event_id`` (``event.EventUuid``) identifies one
delivery of one event; ``version`` identifies the *change* itself:
``"<commitNumber>:<sequenceNumber>"`` — the org's commit sequence number and the change's
place in its transaction. The same change delivered under another event id or replay id
(a replay, a push and a pull of the same commit) has the same version; versions of one
record compare in commit order by their first part.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from revbridge.canonical import ExternalRef
from revbridge.errors import AuthError
from revbridge.ports import ClosedWonChange

CLOSED_WON_STAGE = "Closed Won"
OPPORTUNITY_PREFIX = "006"
SIGNATURE_TOLERANCE_S = 300
_CLOSING_CHANGES = frozenset({"CREATE", "UPDATE", "UNDELETE"})


class DealSignal(BaseModel):
    """An opportunity the CRM closed as won, as one change event reported it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    opportunity: ExternalRef
    event_id: str  # event.EventUuid: this delivery's id, the inbox deduplicates on it
    replay_id: int | None  # event.replayId: the stream position after this event
    version: str  # "<commitNumber>:<sequenceNumber>": the change, whoever delivered it
    change_type: str  # CREATE | UPDATE | UNDELETE
    committed_at: datetime | None = None


def closed_won_signals(event: Mapping[str, Any], system: str) -> list[DealSignal]:
    """The opportunities ``event`` closed as won (``StageName`` "Closed Won" or ``IsWon``)."""
    data = _event_data(event)
    payload = data.get("payload") or {}
    header = payload.get("ChangeEventHeader") or {}
    if header.get("entityName") != "Opportunity":
        return []
    if header.get("changeType") not in _CLOSING_CHANGES:
        return []
    if payload.get("StageName") != CLOSED_WON_STAGE and payload.get("IsWon") is not True:
        return []
    meta = data.get("event") or {}
    replay = meta.get("replayId")
    common = {
        "event_id": str(meta.get("EventUuid") or ""),
        "replay_id": replay if isinstance(replay, int) else None,
        "version": _version(header),
        "change_type": header["changeType"],
        "committed_at": _committed_at(header.get("commitTimestamp")),
    }
    return [
        DealSignal(opportunity=ExternalRef(system=system, id=record_id), **common)
        for record_id in header.get("recordIds") or []
        if isinstance(record_id, str) and _is_record_id(record_id)
    ]


def closed_won_changes(event: Mapping[str, Any], system: str) -> list[ClosedWonChange]:
    """The ``ChangeFeedPort`` view of :func:`closed_won_signals` (pull and push alike)."""
    return [
        ClosedWonChange(
            event_id=s.event_id,
            deal=s.opportunity,
            version=s.version,
            position=s.replay_id,
            occurred_at=s.committed_at,
        )
        for s in closed_won_signals(event, system)
    ]


def _event_data(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The ``{"schema", "payload", "event"}`` part, whichever envelope carries it."""
    if "payload" not in event and isinstance(event.get("data"), Mapping):
        inner: Mapping[str, Any] = event["data"]
        return inner
    return event


def _is_record_id(value: str) -> bool:
    """A concrete opportunity id (not a wildcard such as ``006*``)."""
    return value.startswith(OPPORTUNITY_PREFIX) and len(value) in (15, 18) and value.isalnum()


def _version(header: Mapping[str, Any]) -> str:
    commit = header.get("commitNumber")
    if commit is None:
        commit = header.get("transactionKey", "")
    return f"{commit}:{header.get('sequenceNumber', 0)}"


def _committed_at(millis: Any) -> datetime | None:
    if isinstance(millis, int) and not isinstance(millis, bool):
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    return None


def verify_push(headers: Mapping[str, str], body: bytes, secret: str, now: float) -> None:
    """Accept a pushed change event only with a fresh, valid Standard Webhooks signature.

    ``webhook-signature`` holds space-separated ``v1,<base64 HMAC-SHA256>`` entries over
    ``"<webhook-id>.<webhook-timestamp>.<body>"``; the timestamp must be within
    ``SIGNATURE_TOLERANCE_S`` of ``now`` (epoch seconds). Raises ``AuthError`` otherwise.
    """
    lower = {key.lower(): value for key, value in headers.items()}
    event_id = lower.get("webhook-id", "")
    stamp = lower.get("webhook-timestamp", "")
    signatures = lower.get("webhook-signature", "")
    if not event_id or not stamp.isdigit() or not signatures:
        raise AuthError("change event push: signature headers missing", code="signature_missing")
    if abs(now - int(stamp)) > SIGNATURE_TOLERANCE_S:
        raise AuthError("change event push: timestamp outside tolerance", code="signature_stale")
    signed = f"{event_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest())
    for entry in signatures.split():
        scheme, _, value = entry.partition(",")
        if scheme == "v1" and hmac.compare_digest(value.encode(), expected):
            return
    raise AuthError("change event push: signature does not match", code="signature_invalid")


def _key(secret: str) -> bytes:
    """The HMAC key: a ``whsec_`` secret is base64 (Standard Webhooks), any other is text."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error:
            pass
    return secret.encode()
