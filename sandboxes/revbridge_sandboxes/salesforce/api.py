"""The frame of every REST call: session check, API allocation, version, method dispatch.

:func:`endpoint` turns handlers (one per HTTP method) into a Starlette endpoint that
checks the bearer token, counts the call against the daily allocation, validates the
``vNN.N`` in the path, renders :class:`~.errors.SalesforceError` in Salesforce's shape and
adds ``Sforce-Limit-Info`` to every answer.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from revbridge_sandboxes.salesforce.auth import Session
from revbridge_sandboxes.salesforce.cdc import ChangeEvent
from revbridge_sandboxes.salesforce.dml import Transaction
from revbridge_sandboxes.salesforce.errors import (
    JSON_TYPE,
    SalesforceError,
    json_parser_error,
    method_not_allowed,
    not_found,
)
from revbridge_sandboxes.salesforce.org import SalesforceOrg
from revbridge_sandboxes.salesforce.values import dumps

log = logging.getLogger(__name__)

MIN_VERSION = 20
#: Newest version listed by ``GET /services/data``; paths accept any ``vNN.N`` from v20.0.
MAX_VERSION = 68
_MAX_ACCEPTED = 99
_VERSION_RE = re.compile(r"^v(\d{2,3})\.(\d)$")


@dataclass
class Call:
    """One authenticated REST call."""

    org: SalesforceOrg
    request: Request
    session: Session
    version: str

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    async def body(self) -> Any:
        raw = await self.request.body()
        if not raw.strip():
            raise json_parser_error("No content to map due to end-of-input at [line:1, column:0]")
        try:
            return json.loads(raw, parse_float=Decimal)
        except UnicodeDecodeError:
            raise json_parser_error("Invalid UTF-8 middle byte in the request body") from None
        except json.JSONDecodeError as exc:
            raise json_parser_error(
                f"Unexpected character: {exc.msg} at [line:{exc.lineno}, column:{exc.colno}]"
            ) from None

    async def object_body(self, type_name: str) -> dict[str, Any]:
        body = await self.body()
        if not isinstance(body, dict):
            kind = "START_ARRAY value [" if isinstance(body, list) else "VALUE_STRING"
            raise json_parser_error(
                f"Cannot deserialize instance of {type_name} from {kind} "
                "or request may be missing a required field"
            )
        return body

    def origin(self) -> str:
        origin = f"com/salesforce/api/rest/{self.version}"
        options = self.request.headers.get("sforce-call-options", "")
        for part in options.split(","):
            key, _, value = part.strip().partition("=")
            if key.strip().lower() == "client" and value.strip():
                origin += f";client={value.strip()}"
        return origin

    def commit(self, txn: Transaction) -> list[ChangeEvent]:
        return self.org.commit(txn, self.origin())

    def param(self, name: str) -> str | None:
        return self.request.query_params.get(name)


Handler = Callable[[Call], Awaitable[Response]]


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status_code=status, media_type=JSON_TYPE)


def endpoint(
    org: SalesforceOrg, handlers: dict[str, Handler], min_version: int = MIN_VERSION
) -> Callable[[Request], Awaitable[Response]]:
    allowed = ",".join(["HEAD", *handlers] if "GET" in handlers else handlers)

    async def run(request: Request) -> Response:
        session: Session | None = None
        try:
            session = org.sessions.authenticate(request.headers.get("authorization"))
            if not org.usage.admit():
                raise SalesforceError(
                    403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
                )
            version = _version(request.path_params.get("version", ""), min_version)
            method = "GET" if request.method == "HEAD" else request.method
            handler = handlers.get(method)
            if handler is None:
                raise method_not_allowed(request.method, allowed)
            response = await handler(Call(org, request, session, version))
        except SalesforceError as exc:
            response = exc.response()
        except Exception:
            log.exception("salesforce sandbox: unexpected error")
            response = SalesforceError(
                500,
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred. Please contact support.",
            ).response()
        if session is not None:
            response.headers["Sforce-Limit-Info"] = org.usage.header()
        return response

    return run


def _version(text: str, min_version: int) -> str:
    m = _VERSION_RE.match(text)
    if m is None or not min_version <= int(m.group(1)) <= _MAX_ACCEPTED:
        raise not_found()
    return f"{m.group(1)}.{m.group(2)}"


def available_versions(base: str = "") -> list[dict[str, str]]:
    """``GET /services/data``: every supported version with its release label."""
    out = []
    for major in range(31, MAX_VERSION + 1):
        k = major - 59
        season = ("Winter", "Spring", "Summer")[k % 3]
        out.append(
            {
                "label": f"{season} '{24 + k // 3:02d}",
                "url": f"{base}/services/data/v{major}.0",
                "version": f"{major}.0",
            }
        )
    return out
