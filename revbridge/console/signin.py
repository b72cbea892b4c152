"""Sign-in and sign-out.

The sign-in form is protected against login CSRF by a double-submit token (a short-lived
cookie and the same value in the form). A failed attempt says only that the username or
password is wrong; attempts are throttled per client address (the socket's peer, or the
address a trusted proxy forwarded: :mod:`revbridge.api.proxies`), and a throttled attempt
is a 429 with ``Retry-After``. Passwords are never logged. Signing in starts a session
(see :mod:`revbridge.service.access`); signing out ends it.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from revbridge.console.rendering import page
from revbridge.console.session import (
    COOKIE,
    LOGIN_COOKIE,
    Actor,
    ConsoleDep,
    Posted,
    same_token,
)
from revbridge.service import access

router = APIRouter()
log = logging.getLogger(__name__)
FAILED = "The username or password is not right, or the account is disabled."


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _next(request: Request, wanted: str) -> str:
    """Where to go after signing in: a console page, never another site."""
    base = _base(request)
    ok = wanted.startswith(f"{base}/") and "//" not in wanted and "\\" not in wanted
    return wanted if ok and len(wanted) < 500 else f"{base}/"


def _login_form(request: Request, status: int = 200, error: str | None = None) -> Response:
    token = secrets.token_hex(16)
    response = page(
        request,
        "login.html",
        status_code=status,
        error=error,
        login_token=token,
        next=_next(request, request.query_params.get("next", "")),
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path=_base(request) or "/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_form(request)


@router.post("/login")
def login(request: Request, form: Posted, console: ConsoleDep) -> Response:
    """Check the password; start a session and go to the page asked for."""
    if not same_token(form.get("login_token", ""), request.cookies.get(LOGIN_COOKIE, "")):
        return _login_form(request, 403, "The sign-in form expired. Please try again.")
    client = request.client.host if request.client else "unknown"  # see api.proxies
    wait = console.logins.check(f"login:{client}")
    if wait:
        raise HTTPException(
            429,
            f"Too many sign-in attempts. Wait {wait} s and try again.",
            headers={"Retry-After": str(wait)},
        )
    username, password = form.get("username", "").strip(), form.get("password", "")
    if not username or not password or len(username) > 80 or len(password) > 1024:
        return _login_form(request, 401, FAILED)
    signed = access.sign_in(console.context.engine, username, password)
    if signed is None:
        log.info("console sign-in refused", extra={"client": client})
        return _login_form(request, 401, FAILED)
    _user, token = signed
    response = RedirectResponse(_next(request, form.get("next", "")), 303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(access.SESSION_TTL.total_seconds()),
        path=_base(request) or "/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_COOKIE, path=_base(request) or "/")
    return response


@router.post("/logout")
def logout(request: Request, user: Actor, console: ConsoleDep) -> Response:
    """End the session and go back to the sign-in page."""
    access.close_session(console.context.engine, request.cookies.get(COOKIE, ""))
    response = RedirectResponse(f"{_base(request)}/login", 303)
    response.delete_cookie(COOKIE, path=_base(request) or "/", httponly=True, samesite="lax")
    return response
