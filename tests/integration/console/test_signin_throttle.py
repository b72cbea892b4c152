"""The sign-in throttle counts per client, and a client is who the socket says unless a
trusted proxy (``REVBRIDGE_TRUSTED_PROXIES``) forwarded it: a forged ``X-Forwarded-For``
does not buy fresh attempts, and a throttled attempt is a 429 with ``Retry-After``.

The application runs as ``revbridge serve`` runs it: uvicorn with ``proxy_headers=False``,
so forwarded headers are judged by revbridge alone."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from console_pages import Recorder
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.routing import Mount

from revbridge.api.main import create_app
from revbridge.api.ratelimit import RateLimiter
from revbridge.config.policy import Policy
from revbridge.config.settings import Settings
from revbridge.testing.servers import free_port

ATTEMPTS = 40
TOKEN = re.compile(r'name="login_token" value="([^"]+)"')


def _app(engine: Engine, policy: Policy, trusted_proxies: str) -> FastAPI:
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),  # type: ignore[arg-type]
        trusted_proxies=trusted_proxies,  # type: ignore[arg-type]
    )
    recorder = Recorder()
    app = create_app(settings, engine, policy, signal=recorder.signal, replay=recorder.replay)
    # The console's own throttle (20 attempts, then one every 2 s), refilled 200 times slower
    # so that a loaded machine's slow password checks cannot earn a client fresh attempts.
    (console,) = [r for r in app.routes if isinstance(r, Mount) and r.path == "/console"]
    console.app.state.console.logins = RateLimiter(0.01, 20)  # type: ignore[attr-defined]
    return app


@contextmanager
def _served(app: FastAPI) -> Iterator[httpx.Client]:
    """``app`` on a real socket without uvicorn's own proxy-header handling."""
    port = free_port()
    config = uvicorn.Config(app, port=port, log_level="warning", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a start-up on a loaded machine, not a speed
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _attempts(client: httpx.Client, forwarded: list[str]) -> list[httpx.Response]:
    """One wrong password per ``X-Forwarded-For`` value, each with a fresh form token."""
    found = TOKEN.search(client.get("/console/login").text)
    assert found
    token, answers = found.group(1), []
    for value in forwarded:
        data = {"login_token": token, "username": "fiona", "password": "wrong password!"}
        answer = client.post("/console/login", data=data, headers={"X-Forwarded-For": value})
        answers.append(answer)
        fresh = TOKEN.search(answer.text)
        token = fresh.group(1) if fresh else token
    return answers


def _throttled(answers: list[httpx.Response]) -> list[httpx.Response]:
    assert {a.status_code for a in answers} <= {401, 429}
    refused = [a for a in answers if a.status_code == 429]
    for answer in refused:
        assert int(answer.headers["retry-after"]) >= 1
        assert "Too many sign-in attempts" in answer.text
    return refused


def test_forged_forwarded_for_from_an_untrusted_peer_is_ignored_by_the_throttle(
    store_engine: Engine, policy: Policy
) -> None:
    forged = [f"198.51.100.{n}" for n in range(ATTEMPTS)]
    with _served(_app(store_engine, policy, "")) as client:
        answers = _attempts(client, forged)
    assert _throttled(answers), [a.status_code for a in answers]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_throttle(
    store_engine: Engine, policy: Policy
) -> None:
    # the proxy appends the address it saw; what the client wrote before it is not believed
    chains = [f"198.51.100.{n}, 203.0.113.7" for n in range(ATTEMPTS)]
    with _served(_app(store_engine, policy, "127.0.0.1, 10.0.0.0/8")) as client:
        assert _throttled(_attempts(client, chains))
        (other,) = _attempts(client, ["203.0.113.8, 10.1.2.3"])
        assert other.status_code == 401, other.text
        (still,) = _attempts(client, ["203.0.113.7, 10.1.2.3"])
        assert still.status_code == 429


@pytest.mark.parametrize(("trusted", "secure"), [("", False), ("127.0.0.1", True)])
def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(
    store_engine: Engine, policy: Policy, trusted: str, secure: bool
) -> None:
    with _served(_app(store_engine, policy, trusted)) as client:
        form = client.get("/console/login", headers={"X-Forwarded-Proto": "https"})
    cookie = form.headers["set-cookie"].lower()
    assert ("; secure" in cookie) is secure
