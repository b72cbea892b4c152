"""Console users and their sessions: argon2 password hashes, expiring cookie sessions.

A password is kept only as its argon2id hash (``argon2-cffi``'s defaults) and is never
logged. A session is a random cookie token; only its SHA-256 is stored, with the CSRF
token every form of that session must carry. A session ends when it expires (12 hours
by default), when its user signs out, or when the user is disabled.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, select, update

from revbridge.errors import StoreError
from revbridge.store.tables import console_sessions, console_users

SESSION_TTL = timedelta(hours=12)
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so that costs the same work."""
    return _hasher.hash("revbridge-console-no-such-user")


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    created_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True)
class Session:
    """A live sign-in: who, with which role, and the CSRF token its forms carry."""

    username: str
    display_name: str
    role: str
    csrf_token: str
    expires_at: datetime


def _user(row: Any) -> User:
    data = row._asdict()
    data.pop("password_hash", None)
    return User(**data)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    conn: Connection, username: str, display_name: str, role: str, password: str
) -> User:
    """Store a new user with the argon2 hash of ``password``; StoreError if it exists."""
    if get_user(conn, username) is not None:
        raise StoreError(f"console user {username} already exists")
    conn.execute(
        console_users.insert().values(
            username=username,
            display_name=display_name,
            role=role,
            password_hash=_hasher.hash(password),
            created_at=datetime.now(UTC),
            disabled_at=None,
        )
    )
    created = get_user(conn, username)
    assert created is not None
    return created


def get_user(conn: Connection, username: str) -> User | None:
    row = conn.execute(select(console_users).where(console_users.c.username == username)).first()
    return None if row is None else _user(row)


def listing(conn: Connection) -> list[User]:
    rows = conn.execute(select(console_users).order_by(console_users.c.username)).all()
    return [_user(r) for r in rows]


def authenticate(conn: Connection, username: str, password: str) -> User | None:
    """The enabled user whose password this is, or None (unknown, wrong, disabled)."""
    row = conn.execute(select(console_users).where(console_users.c.username == username)).first()
    stored = _dummy_hash() if row is None else str(row.password_hash)
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(stored):
        conn.execute(
            update(console_users)
            .where(console_users.c.username == username)
            .values(password_hash=_hasher.hash(password))
        )
    return _user(row)


def disable_user(conn: Connection, username: str) -> bool:
    """Disable the user now and end their sessions; False if unknown or already disabled."""
    result = conn.execute(
        update(console_users)
        .where(console_users.c.username == username, console_users.c.disabled_at.is_(None))
        .values(disabled_at=datetime.now(UTC))
    )
    conn.execute(delete(console_sessions).where(console_sessions.c.username == username))
    return bool(result.rowcount)


def open_session(
    conn: Connection, username: str, ttl: timedelta = SESSION_TTL, now: datetime | None = None
) -> str:
    """Start a session for ``username``; returns the cookie token (only its hash is kept)."""
    now = now or datetime.now(UTC)
    conn.execute(delete(console_sessions).where(console_sessions.c.expires_at <= now))
    token = secrets.token_urlsafe(32)
    conn.execute(
        console_sessions.insert().values(
            id=_digest(token),
            username=username,
            csrf_token=secrets.token_hex(32),
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token


def lookup_session(conn: Connection, token: str, now: datetime | None = None) -> Session | None:
    """The live session of ``token``: not expired, its user enabled; else None."""
    now = now or datetime.now(UTC)
    row = conn.execute(
        select(
            console_users.c.username,
            console_users.c.display_name,
            console_users.c.role,
            console_users.c.disabled_at,
            console_sessions.c.csrf_token,
            console_sessions.c.expires_at,
        )
        .join(console_users, console_users.c.username == console_sessions.c.username)
        .where(console_sessions.c.id == _digest(token))
    ).first()
    if row is None or row.disabled_at is not None or row.expires_at <= now:
        return None
    return Session(row.username, row.display_name, row.role, row.csrf_token, row.expires_at)


def close_session(conn: Connection, token: str) -> None:
    conn.execute(delete(console_sessions).where(console_sessions.c.id == _digest(token)))
