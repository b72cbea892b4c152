"""Who may call, and what a repeated call answers: API keys, console users and their
sessions, idempotency keys.

Creating, revoking and disabling are audited here, in the transaction that changes them,
as is a console sign-in; the faces (``revbridge keys``, ``revbridge users``, the console's
sign-in, the API's gate) parse and print.
"""

from __future__ import annotations

from datetime import timedelta

from revbridge.service.database import Database
from revbridge.store import api_keys, audit, console_users, idempotency
from revbridge.store.api_keys import ApiKey
from revbridge.store.console_users import SESSION_TTL, Session, User
from revbridge.store.idempotency import DONE, Stored

__all__ = [
    "DONE",
    "KEY_PREFIX",
    "SESSION_TTL",
    "ApiKey",
    "Session",
    "Stored",
    "User",
    "authenticate_key",
    "claim_request",
    "close_session",
    "create_key",
    "create_user",
    "disable_user",
    "finish_request",
    "keys",
    "release_request",
    "revoke_key",
    "session",
    "sign_in",
    "users",
]

KEY_PREFIX = api_keys.PREFIX


def authenticate_key(database: Database, token: str) -> ApiKey | None:
    """The live key ``token`` names; None when it is unknown, revoked or expired."""
    with database.connect() as conn:
        return api_keys.authenticate(conn, token)


def create_key(
    database: Database, name: str, role: str, expires_in: timedelta | None, actor: str
) -> tuple[ApiKey, str]:
    """A new key and its token (shown once), audited as ``api_key.created``."""
    with database.begin() as conn:
        key, token = api_keys.create(conn, name, role, expires_in)
        audit.append(
            conn,
            actor=actor,
            action="api_key.created",
            subject=key.prefix,
            after={"name": name, "role": role, "expires_at": key.expires_at},
        )
    return key, token


def keys(database: Database) -> list[ApiKey]:
    with database.connect() as conn:
        return api_keys.listing(conn)


def revoke_key(database: Database, key_id: str, actor: str) -> bool:
    """Revoke the active key ``key_id`` (audited); False when there is none."""
    with database.begin() as conn:
        if not api_keys.revoke(conn, key_id):
            return False
        audit.append(conn, actor=actor, action="api_key.revoked", subject=key_id)
    return True


def create_user(
    database: Database, username: str, name: str, role: str, password: str, actor: str
) -> User:
    """A new console user, audited as ``console_user.created``."""
    with database.begin() as conn:
        user = console_users.create_user(conn, username, name, role, password)
        audit.append(
            conn,
            actor=actor,
            action="console_user.created",
            subject=f"console:{user.username}",
            after={"name": user.display_name, "role": user.role},
        )
    return user


def users(database: Database) -> list[User]:
    with database.connect() as conn:
        return console_users.listing(conn)


def disable_user(database: Database, username: str, actor: str) -> bool:
    """Disable an enabled user and end their sessions (audited); False when there is none."""
    with database.begin() as conn:
        if not console_users.disable_user(conn, username):
            return False
        audit.append(
            conn, actor=actor, action="console_user.disabled", subject=f"console:{username}"
        )
    return True


def sign_in(database: Database, username: str, password: str) -> tuple[User, str] | None:
    """A new session's token for the user whose password this is (audited as
    ``console.signed_in``); None when the username or the password is wrong."""
    with database.begin() as conn:
        user = console_users.authenticate(conn, username, password)
        if user is None:
            return None
        token = console_users.open_session(conn, user.username)
        audit.append(
            conn,
            actor=f"console:{user.username} ({user.role})",
            action="console.signed_in",
            subject=f"console:{user.username}",
        )
    return user, token


def session(database: Database, token: str) -> Session | None:
    """The live session ``token`` names, or None."""
    with database.connect() as conn:
        return console_users.lookup_session(conn, token)


def close_session(database: Database, token: str) -> None:
    with database.begin() as conn:
        console_users.close_session(conn, token)


def claim_request(database: Database, key_id: str, key: str, fingerprint: str) -> Stored | None:
    """Claim an idempotency key for a new request; None when claimed, else what it holds."""
    with database.begin() as conn:
        return idempotency.claim(conn, key_id, key, fingerprint)


def finish_request(
    database: Database,
    key_id: str,
    key: str,
    status: int,
    headers: dict[str, str],
    body: str,
) -> None:
    """Keep the answer of a claimed request, for its repeats."""
    with database.begin() as conn:
        idempotency.finish(conn, key_id, key, status, headers, body)


def release_request(database: Database, key_id: str, key: str) -> None:
    """Forget a claim whose request did not run (refused, throttled or failed)."""
    with database.begin() as conn:
        idempotency.release(conn, key_id, key)
