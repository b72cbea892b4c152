"""Every error as RFC 9457 ``application/problem+json``, never a bare 500 with details.

``problem()`` builds a response; the handlers installed by :func:`install` translate
FastAPI's and Starlette's errors: request validation → 422 listing the fields, malformed
JSON → 400 (a body the gate's JSON reader refuses: :func:`payload_problem`), unknown
routes → 404, wrong method → 405, anything unexpected → 500 without details (logged with
its traceback, secrets masked). ``openapi_problems`` documents the problem responses on
every operation.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from revbridge.ingress.payloads import PayloadError, UnstorableTextError
from revbridge.observability.redaction import scrub_text

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://revbridge.dev/problems/"

#: Problem type slug and title per status.
KINDS: dict[int, tuple[str, str]] = {
    400: ("malformed", "Malformed request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid", "Invalid request"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal", "Internal error"),
    503: ("unavailable", "Unavailable"),
}


class ProblemDetail(BaseModel):
    """An RFC 9457 problem; extension members (``errors``, ``rule``) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None


def problem(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    default_kind, default_title = KINDS.get(status, ("error", "Error"))
    body = {
        "type": TYPE_BASE + (kind or default_kind),
        "title": title or default_title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def payload_problem(exc: PayloadError) -> JSONResponse:
    """A body :func:`~revbridge.ingress.payloads.read_json` refused: 400, or 422 naming
    the field whose text cannot be stored."""
    if isinstance(exc, UnstorableTextError):
        loc = ["body", *(str(part) for part in exc.loc)]
        error = {"loc": loc, "msg": exc.reason, "type": "string_unstorable"}
        return problem(422, exc.detail, errors=[error])
    return problem(400, exc.detail)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else KINDS.get(exc.status_code, ("", ""))[1]
    return problem(exc.status_code, detail, headers=dict(exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg")), "type": e.get("type")}
        for e in exc.errors()
    ]
    if any(e["type"] == "json_invalid" for e in errors):
        return problem(400, "the body is not valid JSON", errors=errors)
    fields = ", ".join(".".join(e["loc"]) for e in errors)
    return problem(422, f"invalid fields: {fields}", errors=errors)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error(
        "unhandled error on %s %s: %s",
        request.method,
        request.url.path,
        scrub_text(f"{type(exc).__name__}: {exc}"),
    )
    return problem(500, "an unexpected error occurred; it was logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)


_DOCUMENTED = (400, 401, 403, 404, 409, 413, 415, 422, 429)


def openapi_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Document ``application/problem+json`` for the 4xx answers of every operation."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ProblemDetail"] = ProblemDetail.model_json_schema()
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    ref = {"$ref": "#/components/schemas/ProblemDetail"}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status in _DOCUMENTED:
                responses[str(status)] = {
                    "description": KINDS[status][1],
                    "content": {MEDIA_TYPE: {"schema": ref}},
                }
    return schema
