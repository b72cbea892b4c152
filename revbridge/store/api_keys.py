"""API keys: random secrets shown once, kept only as SHA-256 hashes.

A key reads ``rbk_<id>_<secret>``: ``id`` finds the row, ``secret`` (32 random bytes,
URL-safe base64) is hashed and compared in constant time. A key can expire and can be
revoked; either makes it unusable at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from revbridge.store.tables import api_keys

PREFIX = "rbk_"


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    role: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(row: Any) -> ApiKey:
    data = row._asdict()
    data.pop("secret_hash", None)
    return ApiKey(**data)


def create(
    conn: Connection, name: str, role: str, expires_in: timedelta | None = None
) -> tuple[ApiKey, str]:
    """Store a new key; returns the row and the full token (the only time it exists)."""
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    token = f"{PREFIX}{key_id}_{secret}"
    now = datetime.now(UTC)
    values = {
        "id": key_id,
        "name": name,
        "role": role,
        "prefix": f"{PREFIX}{key_id}",
        "secret_hash": _hash(secret),
        "created_at": now,
        "expires_at": None if expires_in is None else now + expires_in,
        "revoked_at": None,
    }
    conn.execute(api_keys.insert().values(**values))
    found = get(conn, key_id)
    assert found is not None
    return found, token


def split(token: str) -> tuple[str, str] | None:
    """``(id, secret)`` of a well-formed token, else None."""
    if not token.startswith(PREFIX):
        return None
    key_id, sep, secret = token.removeprefix(PREFIX).partition("_")
    if not sep or not key_id or not secret:
        return None
    return key_id, secret


def authenticate(conn: Connection, token: str, now: datetime | None = None) -> ApiKey | None:
    """The usable key ``token`` names, or None (unknown, wrong secret, expired, revoked)."""
    parts = split(token)
    if parts is None:
        return None
    key_id, secret = parts
    row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    if row is None:
        hmac.compare_digest(_hash(secret), "0" * 64)  # same work for unknown ids
        return None
    if not hmac.compare_digest(_hash(secret), row.secret_hash):
        return None
    key = _key(row)
    return key if key.usable(now or datetime.now(UTC)) else None


def get(conn: Connection, key_id: str) -> ApiKey | None:
    row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    return None if row is None else _key(row)


def listing(conn: Connection) -> list[ApiKey]:
    rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
    return [_key(r) for r in rows]


def revoke(conn: Connection, key_id: str) -> bool:
    """Revoke the key now; False when there is no such key or it was already revoked."""
    result = conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return bool(result.rowcount)
