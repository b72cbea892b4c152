"""The one HTTP layer every connector uses.

:class:`HttpCaller` owns an ``httpx.AsyncClient`` for one system and does, for every
call: authentication (with one refresh on 401), the correlation-id header, the
idempotency header when the call is keyed, the system's concurrency and rate budget,
timeouts, classification of the answer into :mod:`revbridge.errors`, and retries
decided by :func:`revbridge.connectors.retry.decide`. Errors carry the request and the
response with secrets redacted.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from revbridge.connectors.retry import RetryPolicy, decide
from revbridge.errors import ConnectorError, RetryableError, TimeoutAfterSendError
from revbridge.observability import context, redaction, tracing
from revbridge.observability.calls import CallRecord
from revbridge.ports import CallObserver, SharedBudget

#: Turns a non-success response into the error the caller should see (None = success).
Classifier = Callable[[httpx.Response], ConnectorError | None]
MAX_LOGGED_BODY = 4000


class Auth(Protocol):
    """Supplies auth headers; ``refresh`` is called once after a 401."""

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]: ...
    async def refresh(self, client: httpx.AsyncClient) -> None: ...


Observer = CallObserver


@dataclass(frozen=True)
class Shared:
    """Where a caller draws its fleet-wide budget from, and for how long a slot may be held
    before it counts as abandoned (a worker that died holding it)."""

    budget: SharedBudget
    system: str
    ttl_s: float


class Budget:
    """A per-system concurrency limit and token-bucket rate limit for this process, and,
    with ``shared``, the same limits held for the whole fleet."""

    def __init__(
        self,
        max_concurrency: int | None,
        requests_per_s: float | None,
        burst: int = 1,
        shared: Shared | None = None,
    ):
        self._max = max_concurrency
        self._slots = asyncio.Semaphore(max_concurrency) if max_concurrency else None
        self._rate = requests_per_s
        self._burst = max(1, burst)
        self._tokens = float(self._burst)
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()
        self._shared = shared

    async def _take_token(self) -> float:
        if not self._rate:
            return 0.0
        waited = 0.0
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return waited
                delay = (1 - self._tokens) / self._rate
                waited += delay
                await asyncio.sleep(delay)

    async def run(
        self, call: Callable[[], Awaitable[httpx.Response]]
    ) -> tuple[httpx.Response, float]:
        start = time.monotonic()
        if self._slots is None:
            return await self._run(call, start)
        async with self._slots:
            return await self._run(call, start)

    async def _run(
        self, call: Callable[[], Awaitable[httpx.Response]], start: float
    ) -> tuple[httpx.Response, float]:
        shared = self._shared
        if shared is None:
            await self._take_token()
            waited = time.monotonic() - start
            return await call(), waited
        slot = await shared.budget.enter(
            shared.system, self._max, self._rate, self._burst, shared.ttl_s
        )
        try:
            waited = time.monotonic() - start
            return await call(), waited
        finally:
            await shared.budget.leave(shared.system, slot)


class LoopLock:
    """One ``asyncio.Lock`` per event loop (a lock belongs to the loop it was made on):
    for state an adapter fills once and shares between concurrent callers, such as a
    token or a cache of reference ids. ``async with lock.current(): ...``"""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def current(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock


class SigningTransport(httpx.AsyncBaseTransport):
    """Signs each outgoing request (:meth:`sign`, per scheme), then hands it to an HTTP
    transport of the running loop: connection pools belong to one event loop, so one inner
    transport is kept per loop."""

    def __init__(
        self,
        *,
        inner: Callable[[], httpx.AsyncBaseTransport] = httpx.AsyncHTTPTransport,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._make_inner = inner
        self._clock = clock
        self._inner: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, httpx.AsyncBaseTransport
        ] = weakref.WeakKeyDictionary()

    def sign(self, request: httpx.Request) -> None:
        raise NotImplementedError

    def _transport(self) -> httpx.AsyncBaseTransport:
        loop = asyncio.get_running_loop()
        transport = self._inner.get(loop)
        if transport is None:
            transport = self._inner[loop] = self._make_inner()
        return transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sign(request)
        return await self._transport().handle_async_request(request)

    async def aclose(self) -> None:
        transport = self._inner.pop(asyncio.get_running_loop(), None)
        if transport is not None:
            await transport.aclose()


@dataclass
class HttpCaller:
    system: str
    base_url: str
    classify: Classifier
    auth: Auth | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    max_concurrency: int | None = None
    requests_per_s: float | None = None
    burst: int = 1
    timeout_s: float = 30.0
    idempotency_header: str = "Idempotency-Key"
    observers: list[Observer] = field(default_factory=list)
    transport: httpx.AsyncBaseTransport | None = None
    shared_budget: SharedBudget | None = None
    _per_loop: dict[asyncio.AbstractEventLoop, tuple[httpx.AsyncClient, Budget]] = field(
        default_factory=dict
    )

    def _bound(self) -> tuple[httpx.AsyncClient, Budget]:
        """Clients and budgets belong to one event loop; keep one pair per loop."""
        loop = asyncio.get_running_loop()
        pair = self._per_loop.get(loop)
        if pair is None:
            client = httpx.AsyncClient(
                base_url=self.base_url, timeout=self.timeout_s, transport=self.transport
            )
            shared = None
            if self.shared_budget is not None:
                shared = Shared(self.shared_budget, self.system, self.timeout_s + 5)
            budget = Budget(self.max_concurrency, self.requests_per_s, self.burst, shared)
            pair = (client, budget)
            self._per_loop[loop] = pair
        return pair

    @property
    def client(self) -> httpx.AsyncClient:
        return self._bound()[0]

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        pair = self._per_loop.pop(loop, None)
        if pair is not None:
            await pair[0].aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json_body: Any = None,
        form: Mapping[str, str] | list[tuple[str, str]] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        idempotent: bool = False,
    ) -> httpx.Response:
        """Send one logical request, retrying per policy; return the success response."""
        keyed = idempotent or idempotency_key is not None or method in ("GET", "HEAD", "PUT")
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(
                    method,
                    path,
                    operation,
                    attempt,
                    json_body,
                    form,
                    params,
                    headers,
                    idempotency_key,
                )
            except ConnectorError as error:
                decision = decide(self.policy, attempt, error, idempotent=keyed)
                if not decision.retry:
                    raise
                await asyncio.sleep(decision.delay_s)

    async def _attempt(
        self,
        method: str,
        path: str,
        operation: str,
        attempt: int,
        json_body: Any,
        form: Mapping[str, str] | list[tuple[str, str]] | None,
        params: Mapping[str, Any] | None,
        extra: Mapping[str, str] | None,
        idempotency_key: str | None,
    ) -> httpx.Response:
        headers = dict(extra or {})
        if (corr := context.correlation_id.get()) is not None:
            headers.setdefault("X-Correlation-Id", corr)
        if idempotency_key is not None:
            headers[self.idempotency_header] = idempotency_key
        content: bytes | None = None
        if form is not None:
            pairs = list(form.items()) if isinstance(form, Mapping) else form
            content = urlencode(pairs).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = self.client.build_request(
            method, path, json=json_body, content=content, params=params, headers=headers
        )
        started = time.monotonic()
        waited = 0.0
        status: int | None = None
        outcome = "ok"
        span = tracing.start_call(self.system, operation, method, attempt)
        try:
            budget = self._bound()[1]
            response, waited = await budget.run(lambda: self._send(request))
            status = response.status_code
            if status == 401 and self.auth is not None and attempt == 1:
                await self.auth.refresh(self.client)
                response, _ = await budget.run(lambda: self._send(request))
                status = response.status_code
            error = self.classify(response)
            if error is not None:
                raise self._enrich(error, request, response)
            return response
        except ConnectorError as error:
            outcome = "retryable" if isinstance(error, RetryableError) else "permanent"
            raise
        finally:
            tracing.end_call(span, status, outcome)
            record = CallRecord(
                self.system, operation, outcome, status, time.monotonic() - started, attempt, waited
            )
            for observer in self.observers:
                observer(record)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        if self.auth is not None:
            request.headers.update(await self.auth.headers(self.client))
        try:
            response = await self.client.send(request)
            await response.aread()
            return response
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise self._enrich(
                RetryableError(f"{self.system}: cannot connect ({type(exc).__name__})"), request
            ) from exc
        except httpx.TransportError as exc:
            raise self._enrich(
                TimeoutAfterSendError(
                    f"{self.system}: no answer after sending ({type(exc).__name__})"
                ),
                request,
            ) from exc

    def _enrich(
        self, error: ConnectorError, request: httpx.Request, response: httpx.Response | None = None
    ) -> ConnectorError:
        error.system = self.system
        error.request = describe_request(request)
        if response is not None:
            error.status = response.status_code
            error.response = describe_response(response)
        error.args = (redaction.scrub_text(str(error)),)
        return error


def _body(content: bytes, content_type: str) -> Any:
    text = content[:MAX_LOGGED_BODY].decode("utf-8", "replace")
    if "json" in content_type:
        try:
            return redaction.scrub(json.loads(content))
        except ValueError:
            pass
    if "x-www-form-urlencoded" in content_type:
        pairs = httpx.QueryParams(text)
        return redaction.scrub({k: pairs.get_list(k)[-1] for k in pairs})
    return redaction.scrub_text(text)


def describe_request(request: httpx.Request) -> dict[str, Any]:
    return {
        "method": request.method,
        "url": redaction.scrub_text(str(request.url)),
        "headers": redaction.headers(request.headers.items()),
        "body": _body(request.content, request.headers.get("content-type", "")),
    }


def describe_response(response: httpx.Response) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "headers": redaction.headers(response.headers.items()),
        "body": _body(response.content, response.headers.get("content-type", "")),
    }


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds form), if present."""
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
