"""The console over real HTTP (uvicorn on a free port) and a real database (SQLite and
PostgreSQL through the suite's ``store_engine``).

``site`` is the whole application ``revbridge serve`` runs, with a recording ``signal``
and ``replay``. Argon2 is deliberately slow, so only the sign-in tests type passwords:
``people`` creates users with one pre-computed hash and ``browser(role)`` is a client
whose session was opened in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from argon2 import PasswordHasher
from console_pages import PASSWORD, Recorder
from fastapi import FastAPI
from sqlalchemy import Engine

from revbridge.api.main import create_app
from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.load import load_policy
from revbridge.config.policy import Policy
from revbridge.config.settings import Settings
from revbridge.store import console_users
from revbridge.store.tables import console_users as user_rows
from revbridge.testing.servers import serve

EXAMPLE = EXAMPLE_POLICY


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(EXAMPLE)


@pytest.fixture(scope="session")
def password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def app(store_engine: Engine, policy: Policy, recorder: Recorder) -> FastAPI:
    url = store_engine.url.render_as_string(hide_password=False)
    return create_app(
        # behind a TLS proxy on this host, whose X-Forwarded-Proto/-For are believed
        Settings(database_url=url, trusted_proxies="127.0.0.1"),  # type: ignore[arg-type]
        store_engine,
        policy,
        signal=recorder.signal,
        replay=recorder.replay,
    )


@pytest.fixture
def site(app: FastAPI) -> Iterator[str]:
    """The base URL of the application on a real socket."""
    with serve(app) as base_url:
        yield base_url


@pytest.fixture
def people(store_engine: Engine, password_hash: str) -> Callable[[str, str], str]:
    """``people(username, role)``: a user whose password is :data:`PASSWORD`."""

    def make(username: str, role: str) -> str:
        with store_engine.begin() as conn:
            conn.execute(
                user_rows.insert().values(
                    username=username,
                    display_name=username.title(),
                    role=role,
                    password_hash=password_hash,
                    created_at=datetime.now(UTC),
                )
            )
        return username

    return make


@pytest.fixture
def browser(
    site: str, store_engine: Engine, people: Callable[[str, str], str]
) -> Iterator[Callable[[str], httpx.Client]]:
    """``browser(role)``: a client signed in as a new user of that role."""
    clients: list[httpx.Client] = []

    def make(role: str) -> httpx.Client:
        username = people(f"{role.replace('_', '-')}-{len(clients)}", role)
        with store_engine.begin() as conn:
            token = console_users.open_session(conn, username)
        client = httpx.Client(base_url=site, timeout=30)
        client.cookies.set("rb_console", token, path="/console")
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def anonymous(site: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site, timeout=30) as client:
        yield client
