"""Sandbox-only routes under ``/_sandbox/`` (not part of Salesforce's API).

- ``GET /_sandbox/cdc/subscribers``, ``POST`` ``{"url", "secret"?, "entities"?}`` (201),
  ``DELETE /_sandbox/cdc/subscribers/{id}``: webhook subscribers of the push relay.
- ``GET /_sandbox/cdc/events?after=N&entity=Opportunity&limit=500``: retained change
  events after replay id N, as pushed (a debugging view; connectors pull over CometD).
- ``POST /_sandbox/undelete`` ``{"ids": [...]}``: restore records from the recycle bin (what
  Salesforce does through the UI or SOAP ``undelete``), producing UNDELETE events.
- ``GET``/``PUT /_sandbox/limits`` ``{"daily_api_limit"?, "used"?}``: read or set the API
  allocation and what is spent of it.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from revbridge_sandboxes.salesforce import ids
from revbridge_sandboxes.salesforce.errors import SalesforceError
from revbridge_sandboxes.salesforce.org import SalesforceOrg
from revbridge_sandboxes.salesforce.relay import DEFAULT_SECRET, ChangeRelay


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload).encode(), status_code=status, media_type="application/json")


def _problem(message: str, status: int = 400) -> Response:
    return _json({"error": message}, status)


async def _body(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


class SandboxControls:
    """Handlers of the sandbox-only routes of one org."""

    def __init__(self, org: SalesforceOrg, relay: ChangeRelay) -> None:
        self.org = org
        self.relay = relay

    def routes(self) -> list[Route]:
        return [
            Route("/_sandbox/cdc/subscribers", self.subscribers, methods=["GET", "POST"]),
            Route("/_sandbox/cdc/subscribers/{sub_id}", self.unsubscribe, methods=["DELETE"]),
            Route("/_sandbox/cdc/events", self.events, methods=["GET"]),
            Route("/_sandbox/undelete", self.undelete, methods=["POST"]),
            Route("/_sandbox/limits", self.limits, methods=["GET", "PUT"]),
        ]

    async def subscribers(self, request: Request) -> Response:
        if request.method == "GET":
            return _json({"subscribers": [s.public() for s in self.relay.subscribers()]})
        body = await _body(request)
        url = body.get("url") if body else None
        if body is None or not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return _problem('body must be {"url": "http(s)://...", "secret"?: str}')
        secret = body.get("secret") or DEFAULT_SECRET
        entities = body.get("entities") or []
        valid = isinstance(entities, list) and all(isinstance(e, str) for e in entities)
        if not isinstance(secret, str) or not valid:
            return _problem("secret must be a string and entities a list of object names")
        return _json(self.relay.add(url, secret, entities).public(), 201)

    async def unsubscribe(self, request: Request) -> Response:
        if self.relay.remove(request.path_params["sub_id"]):
            return Response(status_code=204)
        return _problem("no such subscriber", 404)

    async def events(self, request: Request) -> Response:
        log = self.org.cdc
        try:
            after = int(request.query_params.get("after", "0"))
            limit = int(request.query_params.get("limit", "500"))
        except ValueError:
            return _problem("after and limit must be integers")
        found = log.after(after, request.query_params.get("entity"), max(1, min(limit, 5000)))
        head = json.dumps({"latestReplayId": log.latest, "retained": log.retained()})
        body = head[:-1].encode() + b',"events":[' + b",".join(e.flat() for e in found) + b"]}"
        return Response(body, media_type="application/json")

    async def undelete(self, request: Request) -> Response:
        body = await _body(request)
        wanted = body.get("ids") if body else None
        if not isinstance(wanted, list) or not all(isinstance(i, str) for i in wanted):
            return _problem('body must be {"ids": ["001...", ...]}')
        txn = self.org.transaction()
        results = []
        for given in wanted:
            rid = ids.to18(given) or given
            try:
                restored = txn.undelete(rid)
                results.append({"id": rid, "success": True, "restored": restored})
            except SalesforceError as exc:
                results.append({"id": rid, "success": False, "errors": [exc.item_error()]})
        self.org.commit(txn, "com/salesforce/api/soap/59.0;client=sandbox")
        return _json(results)

    async def limits(self, request: Request) -> Response:
        usage = self.org.usage
        if request.method == "PUT":
            body = await _body(request)
            if body is None:
                return _problem("body must be a JSON object")
            for key, attr in (("daily_api_limit", "limit"), ("used", "used")):
                value = body.get(key)
                if value is not None:
                    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                        return _problem(f"{key} must be a non-negative integer")
                    setattr(usage, attr, value)
        return _json({"daily_api_limit": usage.limit, "used": usage.used})
