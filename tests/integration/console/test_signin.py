"""Signing in and out: argon2 passwords, session cookies, expiry, disabled users."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from console_pages import PASSWORD, csrf_of, sign_in
from sqlalchemy import Engine, select

from revbridge.store import console_users
from revbridge.store.tables import console_sessions
from revbridge.store.tables import console_users as user_rows

FAILED = "The username or password is not right"


def test_the_right_password_opens_a_session_with_a_strict_cookie(
    store_engine: Engine, anonymous: httpx.Client
) -> None:
    with store_engine.begin() as conn:
        console_users.create_user(conn, "fiona", "Fiona Finance", "finance_ops", PASSWORD)
    answer = sign_in(anonymous, "fiona", PASSWORD, "/console/exceptions?owner=finance_ops")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/exceptions?owner=finance_ops"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("rb_console="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "samesite", "max-age"} <= attributes
    assert "Path=/console" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in attributes  # plain http here; https sets Secure
    overview = anonymous.get("/console/")
    assert overview.status_code == 200
    assert "Fiona Finance" in overview.text
    assert "finance_ops" in overview.text


@pytest.mark.parametrize(
    ("username", "password"), [("fiona", "wrong password!"), ("nobody", PASSWORD)]
)
def test_a_wrong_password_or_unknown_user_gets_the_same_generic_refusal(
    store_engine: Engine,
    anonymous: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    username: str,
    password: str,
) -> None:
    with store_engine.begin() as conn:
        console_users.create_user(conn, "fiona", "Fiona Finance", "finance_ops", PASSWORD)
    caplog.set_level(logging.DEBUG)
    answer = sign_in(anonymous, username, password)
    assert answer.status_code == 401
    assert FAILED in answer.text
    assert "rb_console=" not in " ".join(answer.headers.get_list("set-cookie"))
    assert anonymous.get("/console/").status_code == 303
    assert password not in caplog.text
    with store_engine.connect() as conn:
        assert conn.execute(select(console_sessions)).all() == []


def test_passwords_are_stored_only_as_argon2_hashes(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        console_users.create_user(conn, "fiona", "Fiona Finance", "finance_ops", PASSWORD)
        stored = conn.execute(select(user_rows.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    with store_engine.connect() as conn:
        assert console_users.authenticate(conn, "fiona", PASSWORD) is not None
        assert console_users.authenticate(conn, "fiona", PASSWORD.upper()) is None


def test_a_disabled_user_cannot_sign_in_and_loses_open_sessions(
    store_engine: Engine, anonymous: httpx.Client, browser: Callable[[str], httpx.Client]
) -> None:
    with store_engine.begin() as conn:
        console_users.create_user(conn, "fiona", "Fiona Finance", "finance_ops", PASSWORD)
    signed_in = sign_in(anonymous, "fiona", PASSWORD)
    assert signed_in.status_code == 303
    assert anonymous.get("/console/").status_code == 200
    with store_engine.begin() as conn:
        assert console_users.disable_user(conn, "fiona")
        assert not console_users.disable_user(conn, "fiona")
    assert anonymous.get("/console/").status_code == 303  # back to the sign-in page
    anonymous.cookies.clear()
    refused = sign_in(anonymous, "fiona", PASSWORD)
    assert refused.status_code == 401
    assert FAILED in refused.text


def test_an_expired_session_sends_the_browser_to_sign_in(
    store_engine: Engine, anonymous: httpx.Client, people: Callable[[str, str], str]
) -> None:
    people("fiona", "finance_ops")
    with store_engine.begin() as conn:
        old = console_users.open_session(
            conn, "fiona", ttl=timedelta(hours=12), now=datetime.now(UTC) - timedelta(hours=13)
        )
        assert console_users.lookup_session(conn, old) is None
    anonymous.cookies.set("rb_console", old, path="/console")
    answer = anonymous.get("/console/deals?q=x")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login?next=%2Fconsole%2Fdeals%3Fq%3Dx"
    post = anonymous.post("/console/logout", data={"csrf": "x"})
    assert post.status_code == 401
    assert "Sign in" in post.text


def test_signing_out_ends_the_session(
    store_engine: Engine, browser: Callable[[str], httpx.Client]
) -> None:
    client = browser("sales_ops")
    token = csrf_of(client.get("/console/"))
    answer = client.post("/console/logout", data={"csrf": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login"
    with store_engine.connect() as conn:
        assert conn.execute(select(console_sessions)).all() == []
    assert client.get("/console/").status_code == 303


def test_sign_in_never_redirects_off_the_console(
    store_engine: Engine, anonymous: httpx.Client, people: Callable[[str, str], str]
) -> None:
    people("fiona", "finance_ops")
    for target in ("https://evil.example/", "//evil.example/console/", "/v1/deals"):
        anonymous.cookies.clear()
        answer = sign_in(anonymous, "fiona", PASSWORD, target)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/"


def test_the_sign_in_form_needs_its_own_token(anonymous: httpx.Client) -> None:
    answer = anonymous.post(
        "/console/login", data={"username": "fiona", "password": PASSWORD, "login_token": "x"}
    )
    assert answer.status_code == 403
    assert "expired" in answer.text


def test_an_api_key_is_not_a_console_session_and_a_session_is_not_an_api_key(
    browser: Callable[[str], httpx.Client], anonymous: httpx.Client
) -> None:
    client = browser("admin")
    assert client.get("/v1/deals").status_code == 401
    answer = anonymous.get("/console/", headers={"Authorization": "Bearer rbk_0000_secret"})
    assert answer.status_code == 303


def test_the_cookie_is_secure_when_the_request_came_over_https(
    anonymous: httpx.Client, people: Callable[[str, str], str]
) -> None:
    people("fiona", "finance_ops")
    https = {"X-Forwarded-Proto": "https"}  # as a TLS proxy in front of uvicorn says
    form = anonymous.get("/console/login", headers=https)
    token = form.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    found = re.search(r'name="login_token" value="([^"]+)"', form.text)
    assert found
    answer = anonymous.post(
        "/console/login",
        data={"login_token": found.group(1), "username": "fiona", "password": PASSWORD},
        headers={**https, "Cookie": f"rb_console_login={token}"},
    )
    assert answer.status_code == 303
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("rb_console="))
    assert "; secure" in cookie.lower()
