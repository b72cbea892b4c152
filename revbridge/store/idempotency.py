"""Idempotency keys of API requests, with Stripe's semantics.

The first request with a key claims it (state ``running``) together with a fingerprint of
what it asked (method, path, body). When it finishes its response is stored (``done``);
the same key with the same fingerprint then gets that response again, with another
fingerprint a conflict, and while the first is still running a "try later". A claim
still ``running`` after ``ABANDONED`` belonged to a process that died mid-request: the next
request with the key takes it over and runs (its effects are idempotent, so whatever the
dead one did is found, not repeated). Keys belong to one API key; rows older than
``RETENTION`` may be purged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update

from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import idempotency

RETENTION = timedelta(hours=24)
#: No request runs this long; a claim older than this is abandoned.
ABANDONED = timedelta(minutes=5)
RUNNING = "running"
DONE = "done"


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    state: str
    status: int | None
    headers: dict[str, str] | None
    body: str | None


def claim(
    conn: Connection, api_key_id: str, key: str, fingerprint: str, now: datetime | None = None
) -> Stored | None:
    """Claim ``key`` for a new request; None when claimed, else what is stored under it."""
    now = now or datetime.now(UTC)
    claimed = insert_ignore(
        conn,
        idempotency,
        {
            "api_key_id": api_key_id,
            "idem_key": key,
            "fingerprint": fingerprint,
            "state": RUNNING,
            "created_at": now,
        },
    )
    if claimed:
        return None
    row: Any = conn.execute(
        select(idempotency).where(
            idempotency.c.api_key_id == api_key_id, idempotency.c.idem_key == key
        )
    ).one()
    if row.state == RUNNING and row.created_at < now - ABANDONED:
        taken = conn.execute(
            update(idempotency)
            .where(
                idempotency.c.api_key_id == api_key_id,
                idempotency.c.idem_key == key,
                idempotency.c.state == RUNNING,
                idempotency.c.created_at == row.created_at,
            )
            .values(fingerprint=fingerprint, created_at=now)
        )
        if taken.rowcount == 1:
            return None
    return Stored(row.fingerprint, row.state, row.status, row.headers, row.body)


def finish(
    conn: Connection,
    api_key_id: str,
    key: str,
    status: int,
    headers: dict[str, str],
    body: str,
) -> None:
    conn.execute(
        update(idempotency)
        .where(idempotency.c.api_key_id == api_key_id, idempotency.c.idem_key == key)
        .values(state=DONE, status=status, headers=headers, body=body)
    )


def release(conn: Connection, api_key_id: str, key: str) -> None:
    """Forget a claim whose request did not run (refused, throttled or failed)."""
    conn.execute(
        delete(idempotency).where(
            idempotency.c.api_key_id == api_key_id,
            idempotency.c.idem_key == key,
            idempotency.c.state == RUNNING,
        )
    )


def purge(conn: Connection, older_than: timedelta = RETENTION) -> int:
    cutoff = datetime.now(UTC) - older_than
    return int(conn.execute(delete(idempotency).where(idempotency.c.created_at < cutoff)).rowcount)
