"""SalesforceChangeFeed: pull change events after a replay id over CometD (Bayeux).

One read is a short Bayeux session on ``POST /cometd/<version>`` in two calls: a
handshake (with the replay extension), then one batch of subscribe (``ext.replay =
{channel: replay id}``, -2 when there is no replay id yet: every retained event),
connect (answered at once with what is waiting) and disconnect. Events come back as
Salesforce sends them (``{"schema", "payload", "event"}``) with numbers read as
``Decimal``; the new position is the replay id of the last event returned, and events
past ``limit`` are simply read again next time. A session refused with 401 gets a new
token once, like every other call.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from revbridge.connectors.http import HttpCaller, describe_request, describe_response
from revbridge.connectors.salesforce.changes import closed_won_changes
from revbridge.connectors.salesforce.classify import error_for
from revbridge.errors import ConnectorError
from revbridge.observability import redaction
from revbridge.ports import ClosedWonChange

#: ``ext.replay`` value asking for every event still retained.
REPLAY_ALL_RETAINED = -2
Message = dict[str, Any]


class SalesforceChangeFeed:
    """Reads one change event channel (``/data/OpportunityChangeEvent``) by replay id."""

    def __init__(self, http: HttpCaller, api_version: str, channel: str) -> None:
        self.http = http
        self.channel = channel
        self.path = f"/cometd/{api_version}"
        self.system = http.system

    async def read_changes(
        self, after: int | None, limit: int
    ) -> tuple[list[ClosedWonChange], int | None]:
        """The ``ChangeFeedPort``: closed-won changes after replay id ``after``."""
        events, position = await self.read_after(after, limit)
        changes = [c for event in events for c in closed_won_changes(event, self.system)]
        return changes, position

    async def read_after(
        self, replay_id: int | None, limit: int = 100
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Up to ``limit`` events after ``replay_id``, and the replay id to read after next."""
        handshake = {
            "channel": "/meta/handshake",
            "version": "1.0",
            "minimumVersion": "1.0",
            "supportedConnectionTypes": ["long-polling"],
            "ext": {"replay": True},
        }
        client_id = str((await self._exchange("handshake", [handshake]))[0]["clientId"])
        start = REPLAY_ALL_RETAINED if replay_id is None else replay_id
        replies = await self._exchange(
            "read",
            [
                {
                    "channel": "/meta/subscribe",
                    "clientId": client_id,
                    "subscription": self.channel,
                    "ext": {"replay": {self.channel: start}},
                },
                {
                    "channel": "/meta/connect",
                    "clientId": client_id,
                    "connectionType": "long-polling",
                    "advice": {"timeout": 0},
                },
                {"channel": "/meta/disconnect", "clientId": client_id},
            ],
        )
        events = [m["data"] for m in replies if m.get("channel") == self.channel][:limit]
        if not events:
            return [], replay_id
        return events, int(events[-1]["event"]["replayId"])

    async def _exchange(self, step: str, messages: list[Message]) -> list[Message]:
        """Send a batch of Bayeux messages; the replies, raising if a subscribe or
        connect (or the handshake) failed."""
        response = await self.http.call(
            "POST", self.path, operation=f"cometd_{step}", json_body=messages, idempotent=True
        )
        try:
            replies = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            replies = None
        if not isinstance(replies, list):
            raise self._failed(step, "not a Bayeux answer", response)
        for message in messages:
            if message["channel"] == "/meta/disconnect":
                continue
            reply: Message = next(
                (r for r in replies if r.get("channel") == message["channel"]), {}
            )
            if reply.get("successful") is not True:
                raise self._failed(step, str(reply.get("error") or "no reply"), response)
        return [reply for reply in replies if isinstance(reply, dict)]

    def _failed(self, step: str, bayeux_error: str, response: httpx.Response) -> ConnectorError:
        """``"403::Unknown client"``, ``"400::The replayId {7} ... was invalid"`` as errors."""
        code, _, message = bayeux_error.partition("::")
        status = int(code) if code.isdigit() else response.status_code
        error = error_for(status, "", f"cometd {step}: {message or bayeux_error}")
        error.system = self.http.system
        error.request = describe_request(response.request)
        error.response = describe_response(response)
        error.args = (redaction.scrub_text(str(error)),)
        return error
