"""OAuth 2.0: the token endpoint, session tokens and bearer checks.

``POST /services/oauth2/token`` accepts the ``password`` and ``client_credentials`` grants
(client id and secret in the form or as HTTP Basic) for the credentials given to
``create_app``, and answers like Salesforce: ``access_token`` (``00D…!…``),
``instance_url`` (this sandbox's own base URL, as the request reached it), ``id``,
``token_type``, ``issued_at`` and ``signature`` (base64 HMAC-SHA256 of ``id + issued_at``
keyed by the client secret). ``POST /services/oauth2/revoke`` ends a session.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from revbridge_sandboxes.salesforce.errors import SalesforceError, invalid_session


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str
    username: str
    password: str
    security_token: str


@dataclass
class Session:
    token: str
    user_id: str
    issued_at: float


class Sessions:
    """Issued access tokens; a token dies when revoked or after ``timeout_s`` of idleness."""

    def __init__(self, org_id: str, timeout_s: float | None) -> None:
        self.org_id = org_id
        self.timeout_s = timeout_s
        self._by_token: dict[str, Session] = {}
        self._last_used: dict[str, float] = {}

    def issue(self, user_id: str) -> Session:
        token = f"{self.org_id[:15]}!{secrets.token_urlsafe(72)}"
        session = Session(token, user_id, time.time())
        self._by_token[token] = session
        self._last_used[token] = session.issued_at
        return session

    def revoke(self, token: str) -> bool:
        self._last_used.pop(token, None)
        return self._by_token.pop(token, None) is not None

    def authenticate(self, header: str | None) -> Session:
        if not header or not header[:7].lower() == "bearer ":
            raise _unauthorised()
        token = header[7:].strip()
        session = self._by_token.get(token)
        now = time.time()
        if session is None:
            raise _unauthorised()
        if self.timeout_s is not None and now - self._last_used[token] > self.timeout_s:
            self.revoke(token)
            raise _unauthorised()
        self._last_used[token] = now
        return session

    def dump(self) -> list[dict[str, Any]]:
        return [
            {"token": s.token, "user_id": s.user_id, "issued_at": s.issued_at}
            for s in self._by_token.values()
        ]

    def load(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            session = Session(row["token"], row["user_id"], float(row["issued_at"]))
            self._by_token[session.token] = session
            self._last_used[session.token] = time.time()


def _unauthorised() -> SalesforceError:
    error = invalid_session()
    error.headers["WWW-Authenticate"] = "Token"
    return error


def oauth_error(error: str, description: str, status: int = 400) -> Response:
    body = json.dumps({"error": error, "error_description": description}).encode()
    return Response(body, status_code=status, media_type="application/json;charset=UTF-8")


def base_url(request: Request) -> str:
    """This sandbox's base URL as the client reached it (scheme and Host header)."""
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    scheme = request.headers.get("x-forwarded-proto") or request.url.scheme
    return f"{scheme}://{host}"


async def form_params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    body = await request.body()
    params.update(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return params


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        user, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, secret


def token_response(
    params: dict[str, str],
    authorization: str | None,
    credentials: Credentials,
    issue: Callable[[], Session],
    instance_url: str,
    org_id: str,
) -> Response:
    """Answer one token request: ``issue()`` returns a new :class:`Session` on success."""
    grant = params.get("grant_type", "")
    if grant not in ("password", "client_credentials", "refresh_token"):
        return oauth_error("unsupported_grant_type", "grant type not supported")
    client_id, client_secret = params.get("client_id"), params.get("client_secret")
    if (basic := _basic(authorization)) is not None:
        client_id, client_secret = basic
    if client_id != credentials.client_id:
        return oauth_error("invalid_client_id", "client identifier invalid")
    if not hmac.compare_digest(client_secret or "", credentials.client_secret):
        return oauth_error("invalid_client", "invalid client credentials")
    if grant == "refresh_token":
        return oauth_error("invalid_grant", "expired access/refresh token")
    if grant == "password":
        password = params.get("password", "")
        accepted = {credentials.password, credentials.password + credentials.security_token}
        if params.get("username") != credentials.username or password not in accepted:
            return oauth_error("invalid_grant", "authentication failure")
    session = issue()
    issued_at = str(int(session.issued_at * 1000))
    identity = f"{instance_url}/id/{org_id}/{session.user_id}"
    signature = hmac.new(
        credentials.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
    ).digest()
    body: dict[str, Any] = {
        "access_token": session.token,
        "instance_url": instance_url,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": base64.b64encode(signature).decode(),
    }
    if grant == "client_credentials":
        body["scope"] = "api"
    return Response(json.dumps(body).encode(), media_type="application/json;charset=UTF-8")
