"""NetSuite authentication: OAuth 1.0a token-based authentication (TBA) and OAuth 2.0.

A TBA signature covers the method, the URL and the query of each request (RFC 5849
§3.4), so it cannot be a fixed header: :class:`TbaSigningTransport` wraps the HTTP
transport and signs every request as it leaves, retries and re-sends included, each
time with a fresh nonce and timestamp. The signature method is HMAC-SHA256 and the
realm is the account id in upper case (``1234567_SB1``).

An OAuth 2.0 access token is a plain bearer header (:class:`BearerAuth`); revbridge
does not mint or refresh it, so a refused token is an authentication failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote

import httpx

from revbridge.connectors.http import SigningTransport

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class TbaCredentials:
    """An integration record (consumer) and an access token, for one account."""

    account_id: str
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    token_id: str = field(repr=False)
    token_secret: str = field(repr=False)

    @property
    def realm(self) -> str:
        return self.account_id.upper()


def percent_encode(text: str) -> str:
    """RFC 5849 §3.6: encode everything but the RFC 3986 unreserved characters."""
    return quote(text, safe="~")


def base_string_uri(url: httpx.URL) -> str:
    """RFC 5849 §3.4.1.2: scheme and host in lower case, default port dropped, no query."""
    scheme, host = url.scheme.lower(), url.host.lower()
    authority = host if url.port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{url.port}"
    path = url.raw_path.split(b"?", 1)[0].decode("ascii") or "/"
    return f"{scheme}://{authority}{path}"


def signature_base_string(method: str, url: httpx.URL, params: Iterable[tuple[str, str]]) -> str:
    """RFC 5849 §3.4.1: ``METHOD&uri&parameters``, each part percent-encoded."""
    pairs = sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    return "&".join(
        (method.upper(), percent_encode(base_string_uri(url)), percent_encode(normalized))
    )


def hmac_sha256_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def authorization_header(
    credentials: TbaCredentials,
    method: str,
    url: httpx.URL,
    body_params: Iterable[tuple[str, str]] = (),
    *,
    timestamp: int,
    nonce: str,
) -> str:
    """The ``Authorization: OAuth ...`` value signing one request."""
    oauth = {
        "oauth_consumer_key": credentials.consumer_key,
        "oauth_token": credentials.token_id,
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(timestamp),
        "oauth_nonce": nonce,
        "oauth_version": "1.0",
    }
    query = parse_qsl(url.query.decode("ascii"), keep_blank_values=True)
    base = signature_base_string(method, url, [*query, *body_params, *oauth.items()])
    oauth["oauth_signature"] = hmac_sha256_signature(
        base, credentials.consumer_secret, credentials.token_secret
    )
    fields = [("realm", credentials.realm), *oauth.items()]
    return "OAuth " + ", ".join(f'{k}="{percent_encode(v)}"' for k, v in fields)


def form_params(request: httpx.Request) -> list[tuple[str, str]]:
    """Form-encoded body parameters, which RFC 5849 §3.4.1.3.1 includes in the signature."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_CONTENT_TYPE:
        return []
    return parse_qsl(request.content.decode("latin-1"), keep_blank_values=True)


class TbaSigningTransport(SigningTransport):
    """Signs each outgoing request with OAuth 1.0a TBA (a fresh nonce and timestamp), then
    hands it to an HTTP transport of the running loop."""

    def __init__(
        self,
        credentials: TbaCredentials,
        *,
        inner: Callable[[], httpx.AsyncBaseTransport] = httpx.AsyncHTTPTransport,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(inner=inner, clock=clock)
        self._credentials = credentials

    def sign(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = authorization_header(
            self._credentials,
            request.method,
            request.url,
            form_params(request),
            timestamp=int(self._clock()),
            nonce=secrets.token_hex(16),
        )


class BearerAuth:
    """An OAuth 2.0 access token sent as ``Authorization: Bearer``; nothing to refresh."""

    def __init__(self, access_token: str) -> None:
        self._header = {"Authorization": f"Bearer {access_token}"}

    def __repr__(self) -> str:
        return "BearerAuth(***)"

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]:
        return dict(self._header)

    async def refresh(self, client: httpx.AsyncClient) -> None:
        """A refused token stays refused: the 401 becomes an :class:`AuthError`."""
