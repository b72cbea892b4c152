"""Who is signed in to the console, and what every request must show to be let in.

A session is a cookie (HttpOnly, SameSite=Lax, Path=/console, Secure on https) naming a
row of ``rb_console_sessions``; a missing, expired or disabled session is a 401, which the
console turns into the sign-in page. Every POST is a URL-encoded form of at most
:data:`MAX_FORM` bytes that carries the session's CSRF token in the ``csrf`` field: a
missing or wrong token is a 403 and nothing happens.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import ImmutableMultiDict

from revbridge.api.auth import ROLE_SCOPES, Principal
from revbridge.api.deps import ApiContext
from revbridge.api.ratelimit import RateLimiter
from revbridge.service import access

COOKIE = "rb_console"
LOGIN_COOKIE = "rb_console_login"
MAX_FORM = 64 * 1024
MAX_FIELDS = 1100
Form = ImmutableMultiDict[str, str]


@dataclass(frozen=True)
class ConsoleUser(Principal):
    """A signed-in person: a :class:`Principal` (so the API's role rules apply unchanged)
    whose audit name is ``console:<username> (<role>)``."""

    display_name: str = ""
    csrf_token: str = ""

    @property
    def actor(self) -> str:
        return f"console:{self.name} ({self.role})"

    def may(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass
class Console:
    """What the console's pages share: the API's context and the sign-in throttle."""

    context: ApiContext
    logins: RateLimiter


def _console(request: Request) -> Console:
    console = request.app.state.console
    assert isinstance(console, Console)
    return console


ConsoleDep = Annotated[Console, Depends(_console)]


def signed_in(request: Request, console: ConsoleDep) -> ConsoleUser:
    """The user of the request's live session; 401 (→ sign-in page) without one."""
    token = request.cookies.get(COOKIE, "")
    if not token or len(token) > 200:
        raise HTTPException(401, "Sign in to continue.")
    session = access.session(console.context.engine, token)
    if session is None or session.role not in ROLE_SCOPES:
        raise HTTPException(401, "Your session has ended. Sign in again.")
    return ConsoleUser(
        key_id=f"console:{session.username}",
        name=session.username,
        role=session.role,
        display_name=session.display_name,
        csrf_token=session.csrf_token,
    )


SignedIn = Annotated[ConsoleUser, Depends(signed_in)]


async def posted(request: Request) -> Form:
    """The request's URL-encoded form: 415 for another type, 413 over :data:`MAX_FORM`
    bytes, 400 when it cannot be decoded."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPException(415, "Console forms are sent as application/x-www-form-urlencoded.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM:
        raise HTTPException(413, f"The form is larger than {MAX_FORM // 1024} KiB.")
    body = await request.body()
    if len(body) > MAX_FORM:
        raise HTTPException(413, f"The form is larger than {MAX_FORM // 1024} KiB.")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
            errors="strict",
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(400, "The form could not be read.") from exc
    return ImmutableMultiDict(pairs)


Posted = Annotated[Form, Depends(posted)]


def same_token(sent: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())


def csrf_checked(user: SignedIn, form: Posted) -> ConsoleUser:
    """The signed-in user, once the form's CSRF token matches the session's (else 403)."""
    if not same_token(form.get("csrf", ""), user.csrf_token):
        raise HTTPException(
            403, "This form's security token is missing or out of date. Reload the page."
        )
    return user


Actor = Annotated[ConsoleUser, Depends(csrf_checked)]


def needs(user: ConsoleUser, scope: str, what: str) -> None:
    """403 unless the user's role holds ``scope``."""
    if not user.may(scope):
        raise HTTPException(403, f"Your role ({user.role}) may not {what}.")
