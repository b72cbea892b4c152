"""What every request passes before a route runs, as one ASGI middleware.

1. **Size**: a body over ``max_body`` bytes → 413, checked on ``Content-Length`` and
   while streaming, before anything parses it.
2. **Identity**: a bearer key is authenticated and the :class:`~revbridge.api.auth.Principal`
   left in ``request.state``; routes decide what it may do.
3. **Rate**: a key over its token bucket → 429 with ``Retry-After``.
4. **JSON**: a body declared as JSON is read by :func:`~revbridge.ingress.payloads.read_json`
   first, so no route sees one nested too deep, not UTF-8 or not Unicode (→ 400) or
   holding NUL (→ 422 naming the field).
5. **Idempotency** (POST with ``Idempotency-Key``): Stripe's semantics, see
   :mod:`revbridge.store.idempotency`; a replayed answer carries ``Idempotent-Replayed: true``.
6. **Failures**: anything unexpected → a 500 problem without details.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import Response

from revbridge.api.auth import Principal
from revbridge.api.deps import ApiContext
from revbridge.api.problems import payload_problem, problem
from revbridge.ingress.payloads import PayloadError, declares_json, read_json
from revbridge.observability.redaction import register_secret, scrub_text
from revbridge.service import access

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20
CONSOLE = "/console"  # its own session sign-in: no API key, rate limit or idempotency here
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
_RELEASE = {401, 403, 413, 429}


#: Bodies up to this size are read on the event loop; larger ones in a thread.
INLINE_JSON = 64 * 1024


class TooLargeError(Exception):
    """The body passed the limit while streaming."""


class Gate:
    def __init__(self, app: ASGIApp, context: ApiContext, max_body: int = MAX_BODY) -> None:
        self.app, self.context, self.max_body = app, context, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        status = 500
        clock = time.perf_counter()

        async def tracking_send(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
            await send(message)

        try:
            await self._handle(scope, receive, tracking_send)
        except Exception as exc:
            log.error("unhandled error: %s", scrub_text(f"{type(exc).__name__}: {exc}"))
            if not started:
                await problem(500, "an unexpected error occurred; it was logged")(
                    scope, receive, send
                )
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.context.metrics.observe_request(
                scope["method"], template, status, time.perf_counter() - clock
            )

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        try:
            body = await self._read(headers, receive)
        except TooLargeError:
            await problem(413, f"the body is over {self.max_body} bytes")(scope, receive, send)
            return
        replay = _replayer(body, receive)
        if scope["path"] == CONSOLE or scope["path"].startswith(f"{CONSOLE}/"):
            await self.app(scope, replay, send)  # the console signs people in itself
            return
        principal = await asyncio.to_thread(self._authenticate, headers)
        scope.setdefault("state", {})["principal"] = principal
        if principal is not None:
            wait = self.context.limiter.check(principal.key_id)
            if wait:
                response = problem(
                    429,
                    f"rate limit of key {principal.name} exceeded",
                    headers={"Retry-After": str(wait)},
                )
                await response(scope, replay, send)
                return
        if body and declares_json(headers.get("content-type")):
            try:
                if len(body) > INLINE_JSON:
                    await asyncio.to_thread(read_json, body)
                else:  # a thread hop costs ~8x the reading of a webhook-sized body
                    read_json(body)
            except PayloadError as exc:
                await payload_problem(exc)(scope, replay, send)
                return
        key = headers.get("idempotency-key")
        if scope["method"] == "POST" and principal is not None and key:
            await self._idempotent(scope, replay, send, principal, key, body)
            return
        await self.app(scope, replay, send)

    async def _read(self, headers: Headers, receive: Receive) -> bytes:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise TooLargeError
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise TooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _authenticate(self, headers: Headers) -> Principal | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        key = access.authenticate_key(self.context.engine, token.strip())
        if key is None:
            return None
        register_secret(token.strip())
        return Principal(key.id, key.name, key.role)

    async def _idempotent(
        self, scope: Scope, receive: Receive, send: Send, who: Principal, key: str, body: bytes
    ) -> None:
        if len(key) > 255:
            await problem(400, "Idempotency-Key is at most 255 characters")(scope, receive, send)
            return
        digest = hashlib.sha256(f"{scope['method']} {scope['path']}\n".encode() + body)
        fingerprint = digest.hexdigest()
        engine = self.context.engine

        stored = await asyncio.to_thread(access.claim_request, engine, who.key_id, key, fingerprint)
        if stored is not None:
            await _answer_stored(stored, fingerprint)(scope, receive, send)
            return
        captured = _Capture(send)
        try:
            await self.app(scope, receive, captured)
        except BaseException:
            await asyncio.to_thread(access.release_request, engine, who.key_id, key)
            raise

        def settle() -> None:
            if captured.status in _RELEASE or captured.status >= 500:
                access.release_request(engine, who.key_id, key)
                return
            access.finish_request(
                engine,
                who.key_id,
                key,
                captured.status,
                captured.kept_headers(),
                captured.body.decode("utf-8", "replace"),
            )

        await asyncio.to_thread(settle)
        await captured.flush()


def _answer_stored(stored: access.Stored, fingerprint: str) -> Response:
    if stored.state != access.DONE or stored.status is None:
        return problem(
            409,
            "a request with this Idempotency-Key is still in progress; retry later",
            kind="idempotency-key-in-use",
            title="Request in progress",
        )
    if stored.fingerprint != fingerprint:
        return problem(
            422,
            "this Idempotency-Key was used with another request (path or body)",
            kind="idempotency-key-reused",
            title="Idempotency-Key reused",
        )
    headers = {**(stored.headers or {}), "Idempotent-Replayed": "true"}
    media_type = headers.pop("content-type", "application/json")
    return Response(stored.body or "", stored.status, headers=headers, media_type=media_type)


def _replayer(body: bytes, original: Receive) -> Receive:
    """The body already read, once; then the connection's own messages (disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


class _Capture:
    """Holds the route's response so it can be stored before it is sent."""

    def __init__(self, send: Send) -> None:
        self.send, self.status = send, 500
        self.messages: list[Message] = []
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
        self.messages.append(message)

    def kept_headers(self) -> dict[str, str]:
        wanted = {"content-type", "location", "deprecation", "sunset", "link"}
        return {
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in self.headers
            if k.decode("latin-1").lower() in wanted
        }

    async def flush(self) -> None:
        for message in self.messages:
            await self.send(message)
