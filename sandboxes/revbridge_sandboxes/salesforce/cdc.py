"""Change Data Capture: change events built from committed changes, kept for replay.

Each committed create, update, delete or undelete of a CDC-enabled object becomes one
event shaped like Salesforce's CometD JSON (``schema``, ``payload`` with its
``ChangeEventHeader``, ``event.replayId``); the changes of one transaction share a
``transactionKey`` and are numbered by ``sequenceNumber``. Replay ids strictly increase
but are not contiguous, as in Salesforce. ``event.EventUuid`` is the stable id to
deduplicate on. The log keeps the last ``retention`` events. An object's channel is
``/data/<Entity>ChangeEvent``; a custom object's drops the ``c`` of ``__c``
(``/data/Billing_Invoice__ChangeEvent``), as Salesforce names them.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from revbridge_sandboxes.salesforce.dml import Change
from revbridge_sandboxes.salesforce.schema import Field, SObjectType
from revbridge_sandboxes.salesforce.values import dumps, format_datetime, to_json

_SKIPPED = frozenset({"Id", "IsDeleted", "SystemModstamp"})


@dataclass(frozen=True)
class ChangeEvent:
    replay_id: int
    entity: str
    uuid: str
    #: The JSON of ``{"schema", "payload", "event"}``.
    data: bytes

    def channel(self) -> str:
        return channel_of(self.entity)

    def message(self, channel: str) -> bytes:
        """The Bayeux message delivering this event on ``channel``."""
        return b'{"channel":' + dumps(channel) + b',"data":' + self.data + b"}"

    def flat(self) -> bytes:
        """``{"schema", "payload", "event", "channel"}``: the pushed webhook body."""
        return self.data[:-1] + b',"channel":' + dumps(self.channel()) + b"}"


def channel_of(entity: str) -> str:
    """``/data/AccountChangeEvent``; a custom object drops its ``c``: ``/data/X__ChangeEvent``."""
    name = entity.removesuffix("c") if entity.endswith("__c") else entity
    return f"/data/{name}ChangeEvent"


def entity_of(name: str) -> str:
    """The object of a channel's ``<name>ChangeEvent`` (``X__`` is custom object ``X__c``)."""
    return name + "c" if name.endswith("__") else name


@dataclass(frozen=True)
class Commit:
    """Who committed a transaction, when, and through what."""

    key: str
    origin: str
    user_id: str
    timestamp: datetime


def schema_id(sobject: SObjectType) -> str:
    digest = hashlib.sha256(("|".join([sobject.name, *sobject.fields])).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


class ChangeEventLog:
    """The retained change events and the subscribers waiting for new ones."""

    def __init__(self, entities: frozenset[str], retention: int) -> None:
        self.entities = entities
        self.retention = max(1, retention)
        self.listeners: list[Callable[[list[ChangeEvent]], None]] = []
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.clear()

    def clear(self) -> None:
        self._events: list[ChangeEvent] = []
        self._ids: list[int] = []
        self._head = 0
        self.latest = 0
        self.trimmed_upto = 0
        self.delivered = 0
        self._commit_number = 10_769_155_500

    # -- reading ----------------------------------------------------------------------

    def valid_replay(self, replay_id: int) -> bool:
        return self.trimmed_upto <= replay_id <= self.latest

    def after(
        self, replay_id: int, entity: str | None = None, limit: int = 2000
    ) -> list[ChangeEvent]:
        start = bisect.bisect_right(self._ids, replay_id, lo=self._head)
        out: list[ChangeEvent] = []
        for event in self._events[start:]:
            if entity is None or event.entity == entity:
                out.append(event)
                if len(out) >= limit:
                    break
        return out

    def retained(self) -> int:
        return len(self._events) - self._head

    async def wait(self, seconds: float) -> None:
        """Return when a new event is published or ``seconds`` have passed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        entry = (loop, future)
        self._waiters.append(entry)
        try:
            await asyncio.wait({future}, timeout=seconds)
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)

    # -- writing ----------------------------------------------------------------------

    def publish(self, changes: list[Change], commit: Commit) -> list[ChangeEvent]:
        wanted = [c for c in changes if c.sobject.name in self.entities]
        if not wanted:
            return []
        self._commit_number += 1
        events = []
        for seq, change in enumerate(wanted, start=1):
            self.latest += 1 + (self.latest % 3 == 2)
            event_uuid = str(uuid.uuid4())
            header = {
                "entityName": change.sobject.name,
                "recordIds": [(change.after or change.before or {})["Id"]],
                "changeType": change.kind,
                "changeOrigin": commit.origin,
                "transactionKey": commit.key,
                "sequenceNumber": seq,
                "commitTimestamp": int(commit.timestamp.timestamp() * 1000),
                "commitNumber": self._commit_number,
                "commitUser": commit.user_id,
            }
            changed, fields = _payload_fields(change)
            header["changedFields"] = changed
            data = {
                "schema": schema_id(change.sobject),
                "payload": {"ChangeEventHeader": header, **fields},
                "event": {"replayId": self.latest, "EventUuid": event_uuid},
            }
            events.append(ChangeEvent(self.latest, change.sobject.name, event_uuid, dumps(data)))
        self._append(events)
        return events

    def _append(self, events: list[ChangeEvent]) -> None:
        self._events.extend(events)
        self._ids.extend(e.replay_id for e in events)
        overflow = len(self._events) - self._head - self.retention
        if overflow > 0:
            self._head += overflow
            self.trimmed_upto = self._ids[self._head - 1]
        if self._head > 1024 and self._head * 2 > len(self._events):
            del self._events[: self._head], self._ids[: self._head]
            self._head = 0
        for listener in self.listeners:
            listener(events)
        waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            loop.call_soon_threadsafe(_wake, future)

    # -- persistence ----------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        return {
            "latest": self.latest,
            "trimmed_upto": self.trimmed_upto,
            "commit_number": self._commit_number,
            "events": [
                {
                    "replayId": e.replay_id,
                    "entity": e.entity,
                    "uuid": e.uuid,
                    "data": e.data.decode(),
                }
                for e in self._events[self._head :]
            ],
        }

    def load(self, data: dict[str, Any]) -> None:
        self.clear()
        for row in data.get("events", []):
            event = ChangeEvent(row["replayId"], row["entity"], row["uuid"], row["data"].encode())
            self._events.append(event)
            self._ids.append(event.replay_id)
        self.latest = data.get("latest", 0)
        self.trimmed_upto = data.get("trimmed_upto", 0)
        self._commit_number = data.get("commit_number", self._commit_number)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _event_value(f: Field, value: Any) -> Any:
    if f.type == "datetime" and value is not None:
        return format_datetime(value, zulu=True)
    return to_json(f, value)


def _payload_fields(change: Change) -> tuple[list[str], dict[str, Any]]:
    """``(changedFields, payload fields)`` of one change."""
    sobject = change.sobject
    if change.kind == "DELETE" or change.after is None:
        return [], {}
    before = change.before if change.kind == "UPDATE" else None
    parts = {
        field: (compound, part)
        for compound, m in sobject.addresses.items()
        for part, field in m.items()
    }
    changed: list[str] = []
    fields: dict[str, Any] = {}
    for f in sobject.fields.values():
        if f.name in _SKIPPED or f.calculated or f.type == "address":
            continue
        value = change.after.get(f.name)
        if before is not None and before.get(f.name) == value:
            continue
        if before is None and value is None:
            continue
        if f.name in parts:
            compound, part = parts[f.name]
            fields.setdefault(compound, {})[part] = _event_value(f, value)
            if before is not None:
                changed.append(f"{compound}.{part}")
            continue
        fields[f.name] = _event_value(f, value)
        if before is not None:
            changed.append(f.name)
    return changed, fields
