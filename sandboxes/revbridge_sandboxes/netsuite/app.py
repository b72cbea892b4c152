"""The NetSuite sandbox application: routes, the authentication and concurrency gate,
``create_app`` and the sandbox-only configuration route.

Every request under ``/services/rest/`` is authenticated first (401 ``INVALID_LOGIN``),
then takes a slot of the account's concurrency limit (429 ``CONCURRENCY_LIMIT_EXCEEDED``)
for ``service_time_ms`` plus its handling. ``GET``/``PUT /_sandbox/netsuite/config``
reads and changes the behaviour options at run time (no auth, no slot).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, fields
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from revbridge_sandboxes.control import Sandbox, SnapshotFile
from revbridge_sandboxes.faults import FaultConfig, FaultInjector, Message, Receive, Scope, Send
from revbridge_sandboxes.netsuite.account import DEFAULT_ACCOUNT_ID, Account, Options
from revbridge_sandboxes.netsuite.auth import (
    DEFAULT_BEARER_TOKEN,
    DEFAULT_TBA,
    Authenticator,
    RequestFacts,
    TbaCredential,
)
from revbridge_sandboxes.netsuite.errors import (
    ErrorStyle,
    NsError,
    error,
    injected_error_body,
)
from revbridge_sandboxes.netsuite.governor import Governor
from revbridge_sandboxes.netsuite.reference import DEFAULT_ESTATE, Estate
from revbridge_sandboxes.netsuite.routes import Endpoints, error_response
from revbridge_sandboxes.netsuite.state import NetSuiteState

DEFAULT_PORT = 8702
REST_PREFIX = "/services/rest/"
_FORM = "application/x-www-form-urlencoded"


class NetSuiteApp:
    """The vendor ASGI app (wrapped by :class:`~revbridge_sandboxes.control.Sandbox`)."""

    def __init__(self, account: Account, auth: Authenticator, governor: Governor) -> None:
        self.account = account
        self.auth = auth
        self.governor = governor
        ep = Endpoints(account)
        record = "/services/rest/record/v1/{rtype}"
        self.router = Starlette(
            routes=[
                Route(record, ep.guard(ep.collection), methods=["GET", "POST"]),
                Route(
                    record + "/{key}",
                    ep.guard(ep.instance),
                    methods=["GET", "PATCH", "PUT", "DELETE"],
                ),
                Route(
                    record + "/{key}/!transform/{target}", ep.guard(ep.transform), methods=["POST"]
                ),
                Route(record + "/{key}/{sublist}", ep.guard(ep.sublist), methods=["GET"]),
                Route(record + "/{key}/{sublist}/{line}", ep.guard(ep.sublist), methods=["GET"]),
                Route("/services/rest/query/v1/suiteql", ep.guard(ep.suiteql), methods=["POST"]),
                Route("/_sandbox/netsuite/config", self.config, methods=["GET", "PUT"]),
            ],
            exception_handlers={HTTPException: self.http_error},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(REST_PREFIX):
            await self.router(scope, receive, send)
            return
        try:
            receive = await self._authenticate(scope, receive)
            async with self.governor.slot():
                await self.router(scope, receive, send)
        except NsError as err:
            await error_response(err, self.account)(scope, receive, send)

    async def _authenticate(self, scope: Scope, receive: Receive) -> Receive:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body: bytes | None = None
        if headers.get("content-type", "").split(";")[0].strip().lower() == _FORM:
            body, receive = await _buffer(receive)
        facts = RequestFacts(
            method=scope["method"],
            scheme=scope.get("scheme", "http"),
            host=headers.get("host", ""),
            raw_path=(scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
            query_string=scope.get("query_string", b"").decode("latin-1"),
            authorization=headers.get("authorization"),
            form_body=body,
        )
        self.auth.check(facts)
        return receive

    async def http_error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 405:
            err = error(
                405,
                "INVALID_METHOD",
                f"The method {request.method} is not allowed for this resource.",
            )
        else:
            err = error(
                status, "NONEXISTENT_ID", f"The resource '{request.url.path}' does not exist."
            )
        return error_response(err, self.account)

    async def config(self, request: Request) -> Response:
        options = self.account.options
        if request.method == "PUT":
            try:
                changes = json.loads(await request.body() or b"{}")
                _apply_options(options, changes)
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": f"invalid options: {exc}"}, 400)
        return JSONResponse(asdict(options))


def _apply_options(options: Options, changes: Any) -> None:
    if not isinstance(changes, dict):
        raise ValueError("expected a JSON object")
    known = {f.name: f for f in fields(Options)}
    for name, value in changes.items():
        if name not in known:
            raise ValueError(f"unknown option {name!r}")
        current = getattr(options, name)
        if name in ("concurrency_limit",) and (not isinstance(value, int) or value < 1):
            raise ValueError("concurrency_limit must be an integer >= 1")
        if name in ("service_time_ms", "approval_delay_s") and (
            isinstance(value, bool) or not isinstance(value, int | float) or value < 0
        ):
            raise ValueError(f"{name} must be a number >= 0")
        if name == "rejection_status" and value not in ("C", "H"):
            raise ValueError("rejection_status must be 'C' or 'H'")
        if name == "error_style" and value not in ("rfc2616", "rfc9110"):
            raise ValueError("error_style must be 'rfc2616' or 'rfc9110'")
        if name in ("account_id",) and not isinstance(value, str):
            raise ValueError("account_id must be a string")
        if name == "reject_memo_marker" and value is not None and not isinstance(value, str):
            raise ValueError("reject_memo_marker must be a string or null")
        setattr(options, name, type(current)(value) if isinstance(current, float) else value)


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


def create_app(
    *,
    faults: FaultConfig | None = None,
    persist: SnapshotFile | None = None,
    reference: Estate | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    tba_credentials: Sequence[TbaCredential] = (DEFAULT_TBA,),
    bearer_tokens: Sequence[str] = (DEFAULT_BEARER_TOKEN,),
    concurrency_limit: int = 5,
    service_time_ms: float = 0.0,
    approval_delay_s: float = 0.5,
    reject_memo_marker: str | None = "REJECT",
    rejection_status: str = "C",
    error_type_style: ErrorStyle = "rfc2616",
) -> Sandbox:
    """A NetSuite REST web services sandbox (see the package docstring for the options)."""
    if rejection_status not in ("C", "H"):
        raise ValueError("rejection_status must be 'C' (Cancelled) or 'H' (Closed)")
    options = Options(
        account_id=account_id,
        concurrency_limit=concurrency_limit,
        service_time_ms=float(service_time_ms),
        approval_delay_s=float(approval_delay_s),
        reject_memo_marker=reject_memo_marker,
        rejection_status="C" if rejection_status == "C" else "H",
        error_style=error_type_style,
    )
    state = NetSuiteState(reference or DEFAULT_ESTATE)
    account = Account(state, options)
    governor = Governor(lambda: options.concurrency_limit, lambda: options.service_time_ms)
    auth = Authenticator(lambda: options.account_id, tba_credentials, bearer_tokens, state.clock)
    state.figures = governor.figures

    def on_reset() -> None:
        governor.reset()
        auth.reset()

    state.on_reset = on_reset
    app = NetSuiteApp(account, auth, governor)
    injector = FaultInjector(faults)
    error_body = injected_error_body(lambda: options.error_style)
    return Sandbox("netsuite", app, state, error_body, injector, persist)
