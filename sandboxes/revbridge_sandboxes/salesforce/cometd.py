"""A minimal Bayeux (CometD long-polling) endpoint for change events, as Salesforce runs it.

``POST /cometd/{version}`` takes a JSON array of Bayeux messages with the session's
``Authorization: Bearer`` header: ``/meta/handshake`` → ``clientId``;
``/meta/subscribe`` to ``/data/ChangeEvents`` or ``/data/<Entity>ChangeEvent`` (a custom
object's is ``/data/<Name>__ChangeEvent``) with the replay extension (``ext.replay`` =
``{channel: -1 | -2 | replayId}``); ``/meta/connect`` long-polls until events arrive or
the advice timeout passes and returns the events as ``{"channel", "data": {"schema",
"payload", "event"}}`` messages followed by the connect reply; ``/meta/unsubscribe`` and
``/meta/disconnect``. Errors use Salesforce's strings (``403::Unknown client``,
``400::The replayId {N} you provided was invalid...``).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from revbridge_sandboxes.salesforce.cdc import ChangeEvent, entity_of
from revbridge_sandboxes.salesforce.errors import JSON_TYPE, SalesforceError
from revbridge_sandboxes.salesforce.org import SalesforceOrg

ALL_CHANNEL = "/data/ChangeEvents"
_CHANNEL_RE = re.compile(r"^/data/(\w+?)ChangeEvent$")
_VERSION_RE = re.compile(r"^\d{2,3}\.\d$")
MAX_EVENTS_PER_CONNECT = 1000


@dataclass
class _Client:
    id: str
    #: channel → replay id of the last event delivered (or the starting point).
    positions: dict[str, int] = field(default_factory=dict)
    connected: bool = False
    seen: float = field(default_factory=time.monotonic)


class CometdServer:
    """Bayeux clients of one org and their subscriptions."""

    def __init__(self, org: SalesforceOrg, timeout_s: float) -> None:
        self.org = org
        self.timeout_s = timeout_s
        self.clients: dict[str, _Client] = {}
        org.on_reset.append(self.clients.clear)

    async def handle(self, request: Request) -> Response:
        if not _VERSION_RE.match(request.path_params.get("version", "")):
            return _reply([{"successful": False, "error": "404::Unknown version"}], 404)
        try:
            self.org.sessions.authenticate(request.headers.get("authorization"))
        except SalesforceError:
            return _reply([_denied()], 401)
        try:
            payload = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _reply([{"successful": False, "error": "400::Invalid JSON"}], 400)
        except ClientDisconnect:  # the client went away mid-request (a worker stopping)
            return Response(status_code=499)
        messages = payload if isinstance(payload, list) else [payload]
        parts: list[bytes] = []
        for message in messages:
            if not isinstance(message, dict):
                parts.append(_json({"successful": False, "error": "400::Invalid message"}))
                continue
            parts += await self._one(message)
        return Response(b"[" + b",".join(parts) + b"]", media_type=JSON_TYPE)

    async def _one(self, message: dict[str, Any]) -> list[bytes]:
        channel = message.get("channel")
        base = {"channel": channel}
        if "id" in message:
            base["id"] = message["id"]
        if channel == "/meta/handshake":
            return [_json(self._handshake(base))]
        client = self.clients.get(str(message.get("clientId")))
        if client is None:
            return [_json(_unknown_client(base, message.get("clientId")))]
        client.seen = time.monotonic()
        base["clientId"] = client.id
        if channel == "/meta/connect":
            return await self._connect(client, base, message)
        if channel == "/meta/subscribe":
            return [_json(self._subscribe(client, base, message))]
        if channel == "/meta/unsubscribe":
            for sub in _subscriptions(message):
                client.positions.pop(sub, None)
            return [
                _json({**base, "subscription": message.get("subscription"), "successful": True})
            ]
        if channel == "/meta/disconnect":
            self.clients.pop(client.id, None)
            return [_json({**base, "successful": True})]
        error = (
            "403::Publish denied"
            if not str(channel).startswith("/meta/")
            else "400::Unknown channel"
        )
        return [_json({**base, "successful": False, "error": error})]

    def _handshake(self, base: dict[str, Any]) -> dict[str, Any]:
        self._expire()
        client = _Client(secrets.token_hex(14))
        self.clients[client.id] = client
        return {
            **base,
            "ext": {"replay": True, "payload.format": True},
            "minimumVersion": "1.0",
            "clientId": client.id,
            "supportedConnectionTypes": ["long-polling"],
            "version": "1.0",
            "successful": True,
        }

    def _expire(self) -> None:
        horizon = time.monotonic() - 2 * self.timeout_s - 40
        for cid in [c.id for c in self.clients.values() if c.seen < horizon]:
            del self.clients[cid]

    def _subscribe(
        self, client: _Client, base: dict[str, Any], message: dict[str, Any]
    ) -> dict[str, Any]:
        ext = message.get("ext")
        replay = ext.get("replay") if isinstance(ext, dict) else None
        replay = replay if isinstance(replay, dict) else {}
        reply = {**base, "subscription": message.get("subscription")}
        for sub in _subscriptions(message):
            match = _CHANNEL_RE.match(sub)
            if sub != ALL_CHANNEL and (
                match is None or entity_of(match.group(1)) not in self.org.types
            ):
                error = f"400::The channel you requested to subscribe to does not exist {{{sub}}}"
                return {**reply, "successful": False, "error": error}
            start = self._start(replay.get(sub, -1))
            if start is None:
                error = (
                    f"400::The replayId {{{replay.get(sub)}}} you provided was invalid.  Please "
                    "provide a valid ID, -2 to replay all events, or -1 to replay only new events."
                )
                return {**reply, "successful": False, "error": error}
            client.positions[sub] = start
        return {**reply, "successful": True}

    def _start(self, wanted: Any) -> int | None:
        """The replay id to deliver after, for a subscription's replay option."""
        log = self.org.cdc
        if not isinstance(wanted, int) or isinstance(wanted, bool):
            return None
        if wanted == -1:
            return log.latest
        if wanted == -2:
            return log.trimmed_upto
        return wanted if wanted >= 0 and log.valid_replay(wanted) else None

    async def _connect(
        self, client: _Client, base: dict[str, Any], message: dict[str, Any]
    ) -> list[bytes]:
        first = not client.connected
        client.connected = True
        deadline = time.monotonic() + self._wait_for(message)
        events = self._pending(client)
        while not events and not first and (left := deadline - time.monotonic()) > 0:
            await self.org.cdc.wait(left)
            if client.id not in self.clients:
                return [_json(_unknown_client(base, client.id))]
            events = self._pending(client)
        self.org.cdc.delivered += len(events)
        advice = {"interval": 0, "timeout": int(self.timeout_s * 1000), "reconnect": "retry"}
        return [*events, _json({**base, "successful": True, "advice": advice})]

    def _wait_for(self, message: dict[str, Any]) -> float:
        advice = message.get("advice")
        asked = advice.get("timeout") if isinstance(advice, dict) else None
        if isinstance(asked, int | float) and not isinstance(asked, bool) and asked >= 0:
            return min(self.timeout_s, asked / 1000)
        return self.timeout_s

    def _pending(self, client: _Client) -> list[bytes]:
        out: list[bytes] = []
        for sub, position in client.positions.items():
            match = _CHANNEL_RE.match(sub)
            entity = None if sub == ALL_CHANNEL or match is None else entity_of(match.group(1))
            events: list[ChangeEvent] = self.org.cdc.after(
                position, entity, MAX_EVENTS_PER_CONNECT - len(out)
            )
            if events:
                client.positions[sub] = events[-1].replay_id
                out += [e.message(sub) for e in events]
        return out


def _subscriptions(message: dict[str, Any]) -> list[str]:
    sub = message.get("subscription")
    if isinstance(sub, str):
        return [sub]
    return [s for s in sub if isinstance(s, str)] if isinstance(sub, list) else []


def _unknown_client(base: dict[str, Any], client_id: Any) -> dict[str, Any]:
    return {
        **base,
        "clientId": client_id,
        "successful": False,
        "error": "403::Unknown client",
        "advice": {"interval": 0, "reconnect": "handshake"},
    }


def _denied() -> dict[str, Any]:
    return {
        "channel": "/meta/handshake",
        "successful": False,
        "error": "403::Handshake denied",
        "ext": {"sfdc": {"failureReason": "401::Authentication invalid"}},
        "advice": {"reconnect": "none"},
    }


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _reply(messages: list[dict[str, Any]], status: int) -> Response:
    return Response(
        b"[" + b",".join(_json(m) for m in messages) + b"]",
        status_code=status,
        media_type=JSON_TYPE,
    )
