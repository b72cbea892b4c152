"""NetSuite sandbox: TBA (OAuth 1.0a, HMAC-SHA256) and OAuth 2.0 bearer authentication.

The signer below is written from RFC 5849 independently of the sandbox's verifier, so a
request it signs being accepted (and a tampered one refused) checks the verification.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest

from revbridge.testing.servers import serve
from revbridge_sandboxes.netsuite import DEFAULT_TBA, TbaCredential, create_app
from revbridge_sandboxes.netsuite.auth import Authenticator, RequestFacts

ACCOUNT = "1234567_SB1"
REC = "/services/rest/record/v1"
CRED = TbaCredential("ck-test", "cs-test secret", "tk-test", "ts-test&secret")


def enc(value: str) -> str:
    return quote(value, safe="~")


def oauth_header(
    method: str,
    url: str,
    cred: TbaCredential = CRED,
    realm: str = ACCOUNT,
    nonce: str | None = None,
    timestamp: int | None = None,
) -> str:
    """``Authorization: OAuth ...`` for one request (RFC 5849 §3.4, HMAC-SHA256)."""
    parts = urlsplit(url)
    oauth = {
        "oauth_consumer_key": cred.consumer_key,
        "oauth_token": cred.token_id,
        "oauth_signature_method": "HMAC-SHA256",
        "oauth_timestamp": str(timestamp or int(time.time())),
        "oauth_nonce": nonce or secrets.token_hex(12),
        "oauth_version": "1.0",
    }
    pairs = parse_qsl(parts.query, keep_blank_values=True) + list(oauth.items())
    normalized = "&".join(f"{k}={v}" for k, v in sorted((enc(k), enc(v)) for k, v in pairs))
    base_uri = f"{parts.scheme}://{parts.netloc.lower()}{parts.path}"
    base = f"{method.upper()}&{enc(base_uri)}&{enc(normalized)}"
    key = f"{enc(cred.consumer_secret)}&{enc(cred.token_secret)}"
    oauth["oauth_signature"] = base64.b64encode(
        hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()
    ).decode()
    return f'OAuth realm="{realm}",' + ",".join(f'{k}="{enc(v)}"' for k, v in oauth.items())


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    sandbox = create_app(
        account_id=ACCOUNT, tba_credentials=[CRED, DEFAULT_TBA], bearer_tokens=["good-token"]
    )
    with serve(sandbox) as url:
        yield url


@pytest.fixture(scope="module")
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=10) as client:
        yield client


def get(http: httpx.Client, path: str, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization else {}
    return http.get(path, headers=headers)


def assert_invalid_login(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(
        "application/vnd.oracle.resource+json; type=error"
    )
    assert response.json() == {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.2",
        "title": "Unauthorized",
        "status": 401,
        "o:errorDetails": [
            {
                "detail": "Invalid login attempt. For more details, see the Login Audit Trail in "
                "the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit "
                "Trail.",
                "o:errorCode": "INVALID_LOGIN",
            }
        ],
    }


def test_request_signed_with_hmac_sha256_is_accepted(http: httpx.Client, base: str) -> None:
    url = f"{base}{REC}/subsidiary/3?expandSubResources=true&fields=name"

    response = http.get(url, headers={"Authorization": oauth_header("GET", url)})

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Acme Cloud Ltd"


def test_signed_write_with_an_external_id_path_is_accepted(http: httpx.Client, base: str) -> None:
    url = f"{base}{REC}/customer/eid:SF-TBA-1"
    body = {"companyName": "Signed Co", "subsidiary": {"id": "2"}}

    response = http.put(url, json=body, headers={"Authorization": oauth_header("PUT", url)})

    assert response.status_code == 204, response.text


def test_bad_signature_is_401_invalid_login(http: httpx.Client, base: str) -> None:
    url = f"{base}{REC}/subsidiary/3"
    forged = TbaCredential(CRED.consumer_key, "wrong secret", CRED.token_id, CRED.token_secret)

    response = get(http, url, oauth_header("GET", url, cred=forged))

    assert_invalid_login(response)
    assert response.headers["www-authenticate"] == (
        f'OAuth realm="{ACCOUNT}", error="token_rejected", '
        'error_description="Invalid login attempt."'
    )


def test_signature_covers_the_query_string(http: httpx.Client, base: str) -> None:
    signed = f"{base}{REC}/customer?limit=5"

    response = get(http, f"{REC}/customer?limit=6", oauth_header("GET", signed))

    assert_invalid_login(response)


@pytest.mark.parametrize(
    "tamper",
    ["realm", "unknown_token", "stale_timestamp", "sha1"],
)
def test_wrong_realm_token_timestamp_or_method_is_refused(
    http: httpx.Client, base: str, tamper: str
) -> None:
    url = f"{base}{REC}/subsidiary/1"
    header = {
        "realm": lambda: oauth_header("GET", url, realm="1234567_sb1"),
        "unknown_token": lambda: oauth_header(
            "GET", url, cred=TbaCredential("ck-test", "cs-test secret", "other", "x")
        ),
        "stale_timestamp": lambda: oauth_header("GET", url, timestamp=int(time.time()) - 3600),
        "sha1": lambda: oauth_header("GET", url).replace("HMAC-SHA256", "HMAC-SHA1"),
    }[tamper]()

    assert_invalid_login(get(http, url, header))


def test_replayed_nonce_is_refused(http: httpx.Client, base: str) -> None:
    url = f"{base}{REC}/subsidiary/2"
    header = oauth_header("GET", url, nonce="once-only")

    assert get(http, url, header).status_code == 200
    assert_invalid_login(get(http, url, header))


def test_bearer_tokens_are_checked(http: httpx.Client) -> None:
    assert get(http, f"{REC}/subsidiary/1", "Bearer good-token").status_code == 200
    refused = get(http, f"{REC}/subsidiary/1", "Bearer stolen")
    assert_invalid_login(refused)
    assert refused.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_requests_without_credentials_are_refused(http: httpx.Client) -> None:
    assert_invalid_login(get(http, f"{REC}/subsidiary/1", None))
    assert_invalid_login(get(http, f"{REC}/subsidiary/1", "Basic dXNlcjpwYXNz"))


def test_sandbox_control_routes_need_no_credentials(http: httpx.Client) -> None:
    assert http.get("/_sandbox/state").status_code == 200
    assert http.get("/_sandbox/netsuite/config").json()["account_id"] == ACCOUNT


def test_base_string_matches_the_rfc_5849_example() -> None:
    """RFC 5849 §3.4.1.1: query, form body and ``oauth_*`` parameters, encoded twice."""
    auth = Authenticator(lambda: "Example", [], [], time.time)
    facts = RequestFacts(
        method="POST",
        scheme="http",
        host="example.com",
        raw_path="/request",
        query_string="b5=%3D%253D&a3=a&c%40=&a2=r%20b",
        authorization=None,
        form_body=b"c2&a3=2+q",
    )
    params = {
        "realm": "Example",
        "oauth_consumer_key": "9djdj82h48djs9d2",
        "oauth_token": "kkk9d7dh3k39sjv7",
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": "137131201",
        "oauth_nonce": "7d8f3e4a",
        "oauth_signature": "bYT5CMsGcbgUdFHObYMEfcx6bsw=",
    }

    assert auth.base_string(facts, params) == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D"
        "%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce"
        "%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_"
        "token%3Dkkk9d7dh3k39sjv7"
    )
