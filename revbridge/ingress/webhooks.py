"""Push ingress: signed change events POSTed by a CRM (or its event relay).

``POST /webhooks/{system}/changes`` checks the size, the signature and the shape of the
body, records every closed-won change it carries in the inbox and starts the deals' flows,
and only then answers ``202``. Bad input gets a precise RFC 9457 problem and records
nothing: over 1 MiB → 413, a body :func:`~revbridge.ingress.payloads.read_json` refuses
(nested too deep, not UTF-8 or not Unicode → 400, NUL → 422; checked before the
signature), forged, stale or unsigned → 401, malformed otherwise → 400, an unknown
system → 404. A failure of revbridge's own store answers 503, so the sender retries.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from revbridge.errors import AuthError
from revbridge.ingress.deals import ClosedWon, Starter, accept
from revbridge.ingress.payloads import PayloadError, UnstorableTextError, read_json
from revbridge.ports import ClosedWonChange
from revbridge.store.inbox import Outcome

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20

#: Verifies one pushed body and returns its closed-won changes: (headers, body, now).
Receiver = Callable[[Mapping[str, str], bytes, float], list[ClosedWonChange]]


def problem(status: int, title: str, detail: str, kind: str) -> JSONResponse:
    return JSONResponse(
        {
            "type": f"https://revbridge.dev/problems/{kind}",
            "title": title,
            "status": status,
            "detail": detail,
        },
        status_code=status,
        media_type="application/problem+json",
    )


async def _body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def webhook_app(engine: Engine, start: Starter, receivers: Mapping[str, Receiver]) -> Starlette:
    """The ASGI app receiving pushed changes for the systems in ``receivers``."""

    async def changes(request: Request) -> JSONResponse:
        system = request.path_params["system"]
        receiver = receivers.get(system)
        if receiver is None:
            return problem(404, "Unknown system", f"no change webhook for {system!r}", "unknown")
        try:
            body = await _body(request)
        except ClientDisconnect:
            return problem(400, "Incomplete body", "the request body was cut short", "malformed")
        if body is None:
            return problem(413, "Body too large", f"at most {MAX_BODY} bytes", "too-large")
        try:
            read_json(body)
        except PayloadError as exc:
            return _refused(exc)
        try:
            found = receiver(request.headers, body, time.time())
        except AuthError as exc:
            return problem(401, "Signature rejected", str(exc), "signature")
        except ValueError as exc:
            return problem(400, "Malformed change event", str(exc)[:300], "malformed")
        return await _record(engine, start, system, found)

    return Starlette(routes=[Route("/webhooks/{system}/changes", changes, methods=["POST"])])


def _refused(exc: PayloadError) -> JSONResponse:
    if isinstance(exc, UnstorableTextError):
        return problem(422, "Unprocessable change event", exc.detail, "invalid")
    return problem(400, "Malformed change event", exc.detail, "malformed")


async def _record(
    engine: Engine, start: Starter, system: str, found: list[ClosedWonChange]
) -> JSONResponse:
    outcomes: list[Outcome] = []
    try:
        for change in found:
            outcomes.append(await accept(engine, start, _signal(system, change)))
    except SQLAlchemyError:
        log.exception("change webhook %s: store unavailable", system)
        return problem(503, "Store unavailable", "try again later", "unavailable")
    body: dict[str, Any] = {
        "accepted": sum(o is Outcome.NEW for o in outcomes),
        "duplicates": sum(o is not Outcome.NEW for o in outcomes),
    }
    return JSONResponse(body, status_code=202)


def _signal(system: str, change: ClosedWonChange) -> ClosedWon:
    return ClosedWon(
        source=system,
        event_id=change.event_id,
        deal=change.deal,
        version=change.version,
        occurred_at=change.occurred_at,
        payload={"deal": str(change.deal), "position": change.position, "via": "push"},
    )
