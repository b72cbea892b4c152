"""What every ``/v1`` request goes through, in Stripe's order.

Request id → API version → authentication (401) → rate limit (429) → route (404)
→ decode the form → idempotency (replay / 400 / 409) → validate params (400, not
saved) → execute (saved under the idempotency key, errors and 500s included) →
webhooks. Every response carries ``Request-Id`` and ``Stripe-Version``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from revbridge_sandboxes.stripe import billing, forms
from revbridge_sandboxes.stripe.access import RateLimiter, authenticate
from revbridge_sandboxes.stripe.endpoint import Call, Endpoint
from revbridge_sandboxes.stripe.errors import StripeError
from revbridge_sandboxes.stripe.events import deliver
from revbridge_sandboxes.stripe.idempotency import Saved, check_key, fingerprint
from revbridge_sandboxes.stripe.state import StripeState
from revbridge_sandboxes.stripe.tables import new_request_id
from revbridge_sandboxes.webhooks import WebhookSender

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?(;.*)?$")


@dataclass
class Pipeline:
    """The request path shared by all endpoints of one sandbox."""

    state: StripeState
    keys: frozenset[str]
    limiter: RateLimiter
    sender: WebhookSender
    execution_delay_s: float = 0.0

    async def dispatch(self, request: Request, methods: dict[str, Endpoint]) -> Response:
        request_id = new_request_id()
        version = request.headers.get("stripe-version") or self.state.options.api_version
        headers = {"Request-Id": request_id, "Stripe-Version": version}
        try:
            if not _VERSION.match(version):
                headers["Stripe-Version"] = self.state.options.api_version
                raise StripeError.invalid(f"Invalid Stripe API version: {version}")
            api_key = authenticate(request.headers.get("authorization"), self.keys)
            if not self.limiter.allow(api_key):
                raise StripeError.rate_limited()
            endpoint = methods.get(request.method)
            if endpoint is None:
                raise StripeError.unrecognized_url(request.method, request.url.path)
            raw = forms.decode(request.url.query)
            if request.method == "POST":
                raw = {**raw, **forms.decode(await _body(request))}
            key = request.headers.get("idempotency-key") if request.method == "POST" else None
            if key is not None:
                check_key(key)
                headers["Idempotency-Key"] = key
            status, body = await self._run(request, endpoint, raw, api_key, key, headers)
        except StripeError as error:
            headers.update(error.headers)
            status, body = error.status, self._error_json(error, request_id)
        return Response(body, status, headers, media_type="application/json")

    async def _run(
        self,
        request: Request,
        endpoint: Endpoint,
        raw: dict[str, Any],
        api_key: str,
        key: str | None,
        headers: dict[str, str],
    ) -> tuple[int, bytes]:
        state, request_id = self.state, headers["Request-Id"]
        path = request.url.path
        if key is not None:
            saved = state.idempotency.begin(
                api_key, key, request.method, path, fingerprint(raw), request_id, state.clock.now()
            )
            if saved is not None:
                return self._replay(saved, headers)
            headers["Original-Request"] = request_id
            headers["Stripe-Should-Retry"] = "false"
        kept = False
        try:
            params = endpoint.spec.validate(raw)
            if self.execution_delay_s:
                await asyncio.sleep(self.execution_delay_s)
            status, body, kept = self._execute(endpoint, params, request, key, request_id)
        finally:
            if key is not None and not kept:
                state.idempotency.release(api_key, key)
        if key is not None and kept:
            state.idempotency.finish(api_key, key, status, body.decode())
        deliver(self.sender, state.take_outbox())
        return status, body

    def _execute(
        self,
        endpoint: Endpoint,
        params: dict[str, Any],
        request: Request,
        key: str | None,
        request_id: str,
    ) -> tuple[int, bytes, bool]:
        """Run the handler under the state lock; every outcome becomes a response.

        The flag says whether the outcome is saved under an idempotency key: not
        when the handler rejected the parameters before doing anything.
        """
        state = self.state
        with state.lock:
            self.catch_up()
            state.request = {"id": request_id, "idempotency_key": key}
            try:
                call = Call(state, params, dict(request.path_params), request.url.path)
                return 200, _json(endpoint.handler(call)), True
            except StripeError as error:
                return error.status, self._error_json(error, request_id), not error.validation
            except Exception:
                log.exception("stripe sandbox: unexpected error in %s", request.url.path)
                return 500, self._error_json(StripeError.api_error(), request_id), True
            finally:
                state.request = {"id": None, "idempotency_key": None}

    def catch_up(self) -> None:
        """Run global-clock billing work that came due in wall time since the last request."""
        state = self.state
        due = state.next_due
        if due is not None and state.clock.now() >= due:
            advance_global(state, 0)

    def _replay(self, saved: Saved, headers: dict[str, str]) -> tuple[int, bytes]:
        headers["Original-Request"] = saved.request_id
        headers["Idempotent-Replayed"] = "true"
        headers["Stripe-Should-Retry"] = "false"
        return saved.status or 500, saved.body.encode()

    def _error_json(self, error: StripeError, request_id: str) -> bytes:
        return _json(error.body(request_id, self.state.clock.now()))


def advance_global(state: StripeState, seconds: int) -> None:
    """Move the global clock and run what came due; a failure is logged, not re-raised."""
    with state.lock:
        state.clock.advance(seconds)
        try:
            billing.run_due(state, None, state.clock.now())
        except Exception:
            log.exception("stripe sandbox: billing run failed")
            state.next_due = None


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise StripeError.invalid("Request body too large.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise StripeError.invalid("Request body too large.")
        chunks.append(chunk)
    return b"".join(chunks)


def _json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), default=str).encode()


def fault_error_body(status: int, retry_after_s: float | None) -> tuple[bytes, dict[str, str]]:
    """Injected faults in Stripe's shape; Stripe sends no Retry-After, even on 429."""
    del retry_after_s
    if status == 429:
        error = StripeError.rate_limited()
    elif status >= 500:
        error = StripeError(status, "An unknown error occurred", type="api_error")
    else:
        error = StripeError(status, "Sandbox fault", type="invalid_request_error")
    request_id = new_request_id()
    body = json.dumps(error.body(request_id)).encode()
    return body, {"Content-Type": "application/json", "Request-Id": request_id}
