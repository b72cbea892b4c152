"""The console application: its pages, stylesheet, error pages and security headers.

``build(context)`` returns an ASGI application that ``create_app`` mounts at
:data:`PATH`. Errors are pages, never JSON and never a bare 500: 401 sends a browser to
the sign-in page, every other 4xx explains itself, and anything unexpected is logged
(secrets masked) and answered with a 500 page without details.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revbridge.api.deps import ApiContext
from revbridge.api.ratelimit import RateLimiter
from revbridge.console import configuration, deals, exceptions, overview, replays, signin
from revbridge.console.rendering import page
from revbridge.console.session import Console
from revbridge.observability.redaction import scrub_text

log = logging.getLogger(__name__)
PATH = "/console"
STATIC = Path(__file__).with_name("static")
TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Refused",
    413: "Too large",
    415: "Unsupported form",
    422: "Invalid input",
    429: "Too many attempts",
    500: "Something went wrong",
}
HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


class SecurityHeaders:
    """Adds :data:`HEADERS` to every console response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [
                    (k.encode(), v.encode())
                    for k, v in HEADERS.items()
                    if k.encode() not in present
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def error_page(
    request: Request, status: int, detail: str, headers: dict[str, str] | None = None
) -> Response:
    title = TITLES.get(status, "Error")
    return page(
        request,
        "error.html",
        status_code=status,
        headers=headers,
        title=title,
        detail=detail,
        code=status,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
    if exc.status_code == 404 and detail == "Not Found":
        detail = "There is no such page in the console."
    if exc.status_code == 401 and request.method in ("GET", "HEAD"):
        base = request.scope.get("root_path", "").rstrip("/")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{base}/login?next={quote(target, safe='')}", 303)
    return error_page(request, exc.status_code, detail, dict(exc.headers or {}))


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    names = sorted({str(e.get("loc", ("", "?"))[-1]) for e in exc.errors()})
    return error_page(request, 400, f"These parameters are not valid: {', '.join(names)}.")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error(
        "console error on %s %s: %s",
        request.method,
        request.url.path,
        scrub_text(f"{type(exc).__name__}: {exc}"),
    )
    return error_page(request, 500, "An unexpected error occurred; it was logged.")


def build(context: ApiContext) -> FastAPI:
    """The console over the API's context (same store, policy, ``signal`` and ``replay``)."""
    site = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    site.state.console = Console(context, RateLimiter(0.5, 20))
    site.add_exception_handler(StarletteHTTPException, _http_error)
    site.add_exception_handler(RequestValidationError, _invalid)
    site.add_exception_handler(Exception, _unexpected)
    site.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (signin, overview, deals, exceptions, replays, configuration):
        site.include_router(module.router)
    site.add_middleware(SecurityHeaders)
    return site
