"""Token-based authentication (OAuth 1.0a, HMAC-SHA256) and OAuth 2.0 bearer tokens.

A TBA request carries ``Authorization: OAuth realm="<ACCOUNT_ID>", oauth_consumer_key,
oauth_token, oauth_signature_method="HMAC-SHA256", oauth_timestamp, oauth_nonce,
oauth_version="1.0", oauth_signature``. The signature is checked as RFC 5849 §3.4
defines it: the base string is ``METHOD&enc(base URI)&enc(normalised parameters)``
(query parameters plus the ``oauth_*`` header parameters, plus form-encoded body
parameters; percent-encoded, sorted), signed with ``enc(consumer secret)&enc(token
secret)``. The realm must be the account id, the timestamp within five minutes of the
sandbox clock and the nonce unused in that window. Anything else gets NetSuite's 401
``INVALID_LOGIN`` error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote

from revbridge_sandboxes.netsuite.errors import NsError, invalid_login

TIMESTAMP_WINDOW_S = 300
_PARAM = re.compile(r'\s*([A-Za-z0-9_\-]+)\s*=\s*"([^"]*)"\s*,?')


@dataclass(frozen=True)
class TbaCredential:
    """One integration record (consumer) and one access token of a user/role."""

    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


#: The credentials a default sandbox accepts (demo and tests sign with these).
DEFAULT_TBA = TbaCredential(  # sandbox-only demo credentials, not secrets
    consumer_key="sandbox-consumer-key",
    consumer_secret="sandbox-consumer-secret",  # noqa: S106
    token_id="sandbox-token-id",  # noqa: S106
    token_secret="sandbox-token-secret",  # noqa: S106
)
DEFAULT_BEARER_TOKEN = "sandbox-oauth2-access-token"  # noqa: S105


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding of everything but unreserved characters (RFC 5849 §3.6)."""
    return quote(value, safe="~")


def base_string_uri(scheme: str, host: str, path: str) -> str:
    """RFC 5849 §3.4.1.2: lower-case scheme and host, default port dropped, no query."""
    scheme, host = scheme.lower(), host.lower()
    if (scheme, host.rsplit(":", 1)[-1]) in (("http", "80"), ("https", "443")):
        host = host.rsplit(":", 1)[0]
    return f"{scheme}://{host}{path}"


def normalized_parameters(params: Iterable[tuple[str, str]]) -> str:
    """RFC 5849 §3.4.1.3.2: encode names and values, sort, join with ``=`` and ``&``."""
    pairs = sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in pairs)


def signature_base_string(method: str, uri: str, params: Iterable[tuple[str, str]]) -> str:
    return "&".join(
        (method.upper(), percent_encode(uri), percent_encode(normalized_parameters(params)))
    )


def hmac_sha256(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def parse_oauth_header(value: str) -> dict[str, str] | None:
    """The parameters of an ``OAuth ...`` Authorization header, decoded; None if malformed."""
    if value[:6].lower() != "oauth ":
        return None
    rest, params, pos = value[6:], {}, 0
    while pos < len(rest.rstrip()):
        m = _PARAM.match(rest, pos)
        if m is None:
            return None
        params[m.group(1)] = unquote(m.group(2))
        pos = m.end()
    return params


@dataclass(frozen=True)
class RequestFacts:
    """What the verifier needs to know about one request."""

    method: str
    scheme: str
    host: str
    raw_path: str
    query_string: str
    authorization: str | None
    form_body: bytes | None = None


class Authenticator:
    """Accepts the configured TBA credentials and bearer tokens of one account."""

    def __init__(
        self,
        account_id: Callable[[], str],
        credentials: Sequence[TbaCredential],
        bearer_tokens: Sequence[str],
        clock: Callable[[], float],
    ) -> None:
        self.account_id = account_id
        self.by_token = {(c.consumer_key, c.token_id): c for c in credentials}
        self.bearer_tokens = frozenset(bearer_tokens)
        self.clock = clock
        self._nonces: set[tuple[str, str, str]] = set()
        self._nonce_order: deque[tuple[float, tuple[str, str, str]]] = deque()

    def check(self, facts: RequestFacts) -> None:
        """Return when the request is authenticated, raise the 401 otherwise."""
        header = (facts.authorization or "").strip()
        if header[:7].lower() == "bearer ":
            if header[7:].strip() in self.bearer_tokens:
                return
            raise self._refused('Bearer error="invalid_token"')
        params = parse_oauth_header(header)
        if params is None or not self._tba_ok(facts, params):
            raise self._refused(f'OAuth realm="{self.account_id()}"')

    def _refused(self, challenge: str) -> NsError:
        err = invalid_login()
        err.headers["WWW-Authenticate"] = (
            f'{challenge}, error="token_rejected", error_description="Invalid login attempt."'
            if challenge.startswith("OAuth")
            else f'{challenge}, error_description="Invalid login attempt."'
        )
        return err

    def _tba_ok(self, facts: RequestFacts, params: dict[str, str]) -> bool:
        cred = self.by_token.get(
            (params.get("oauth_consumer_key", ""), params.get("oauth_token", ""))
        )
        if cred is None or params.get("realm") != self.account_id():
            return False
        if params.get("oauth_signature_method") != "HMAC-SHA256":
            return False
        if params.get("oauth_version", "1.0") != "1.0":
            return False
        nonce, signature = params.get("oauth_nonce"), params.get("oauth_signature")
        try:
            timestamp = int(params.get("oauth_timestamp", ""))
        except ValueError:
            return False
        now = self.clock()
        if not nonce or not signature or abs(now - timestamp) > TIMESTAMP_WINDOW_S:
            return False
        expected = hmac_sha256(
            self.base_string(facts, params), cred.consumer_secret, cred.token_secret
        )
        if not hmac.compare_digest(expected, signature):
            return False
        return self._fresh_nonce((cred.consumer_key, cred.token_id, nonce), now)

    def base_string(self, facts: RequestFacts, params: dict[str, str]) -> str:
        pairs = parse_qsl(facts.query_string, keep_blank_values=True)
        pairs += [(k, v) for k, v in params.items() if k not in ("realm", "oauth_signature")]
        if facts.form_body:
            pairs += parse_qsl(facts.form_body.decode("latin-1"), keep_blank_values=True)
        uri = base_string_uri(facts.scheme, facts.host, facts.raw_path)
        return signature_base_string(facts.method, uri, pairs)

    def _fresh_nonce(self, key: tuple[str, str, str], now: float) -> bool:
        while self._nonce_order and self._nonce_order[0][0] < now - 2 * TIMESTAMP_WINDOW_S:
            self._nonces.discard(self._nonce_order.popleft()[1])
        if key in self._nonces:
            return False
        self._nonces.add(key)
        self._nonce_order.append((now, key))
        return True

    def reset(self) -> None:
        self._nonces.clear()
        self._nonce_order.clear()
