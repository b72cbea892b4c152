"""The fleet's membership: who is working, their heartbeats, and who took over whose work.

Each ``revbridge worker`` registers under its executor id, heartbeats every few seconds and
marks itself stopped on a clean exit. A worker is *gone* when it stopped, when its heartbeat
is older than the fleet timeout, or when it ran on this host and its process no longer
exists. One survivor claims a gone worker (a conditional update, so exactly one wins) and
recovers its unfinished workflows; a worker that comes back under the same id clears the
claim.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, and_, select, update

from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import deals, workers


@dataclass(frozen=True)
class Worker:
    executor_id: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    recovered_by: str | None
    recovered_at: datetime | None


def register(
    conn: Connection, executor_id: str, host: str, pid: int, now: datetime | None = None
) -> None:
    """Join the fleet (or rejoin under the same id: an old claim on it is cleared)."""
    now = now or datetime.now(UTC)
    values = {
        "host": host,
        "pid": pid,
        "started_at": now,
        "heartbeat_at": now,
        "stopped_at": None,
        "recovered_by": None,
        "recovered_at": None,
    }
    if not insert_ignore(conn, workers, {"executor_id": executor_id, **values}):
        conn.execute(update(workers).where(workers.c.executor_id == executor_id).values(**values))


def adopt_legacy(conn: Connection, executor_id: str, now: datetime | None = None) -> bool:
    """Record, once, an executor that ran before workers registered (DBOS's default
    ``local``) as stopped, so that a survivor takes its unfinished workflows over. Called
    before the first worker registers: only a database that already holds deals but no
    worker can have been run by that executor (a new database lists no such worker).
    Returns True when it was recorded."""
    if conn.execute(select(workers.c.executor_id).limit(1)).first() is not None:
        return False
    if conn.execute(select(deals.c.deal_key).limit(1)).first() is None:
        return False
    now = now or datetime.now(UTC)
    return insert_ignore(
        conn,
        workers,
        {
            "executor_id": executor_id,
            "host": "",
            "pid": 0,
            "started_at": now,
            "heartbeat_at": now,
            "stopped_at": now,
        },
    )


def heartbeat(conn: Connection, executor_id: str, now: datetime | None = None) -> bool:
    """Say this worker is alive; False when another worker has already taken its work over
    (the caller should then stop: its workflows run elsewhere now)."""
    now = now or datetime.now(UTC)
    done = conn.execute(
        update(workers)
        .where(workers.c.executor_id == executor_id, workers.c.recovered_by.is_(None))
        .values(heartbeat_at=now)
    )
    return done.rowcount == 1


def stop(conn: Connection, executor_id: str, now: datetime | None = None) -> None:
    """Leave the fleet cleanly; survivors take over any workflow still waiting."""
    conn.execute(
        update(workers)
        .where(workers.c.executor_id == executor_id)
        .values(stopped_at=now or datetime.now(UTC))
    )


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def gone(
    conn: Connection, timeout_s: float, host: str, me: str, now: datetime | None = None
) -> list[Worker]:
    """Workers whose work nobody has taken over yet and that are no longer working."""
    now = now or datetime.now(UTC)
    stale = now - timedelta(seconds=timeout_s)
    rows = conn.execute(
        select(workers).where(workers.c.recovered_by.is_(None), workers.c.executor_id != me)
    ).all()
    found = []
    for row in rows:
        worker = Worker(**row._asdict())
        if (
            worker.stopped_at is not None
            or worker.heartbeat_at < stale
            or (worker.host == host and not _process_exists(worker.pid))
        ):
            found.append(worker)
    return found


def claim(conn: Connection, executor_id: str, by: str, now: datetime | None = None) -> bool:
    """Take over ``executor_id``'s work; True for exactly one claimant."""
    done = conn.execute(
        update(workers)
        .where(
            and_(
                workers.c.executor_id == executor_id,
                workers.c.recovered_by.is_(None),
            )
        )
        .values(recovered_by=by, recovered_at=now or datetime.now(UTC))
    )
    return done.rowcount == 1


def fleet(conn: Connection, timeout_s: float, now: datetime | None = None) -> list[Worker]:
    """Workers that are alive: not stopped, not taken over, heartbeat within the timeout."""
    now = now or datetime.now(UTC)
    rows = conn.execute(
        select(workers)
        .where(
            workers.c.stopped_at.is_(None),
            workers.c.recovered_by.is_(None),
            workers.c.heartbeat_at >= now - timedelta(seconds=timeout_s),
        )
        .order_by(workers.c.executor_id)
    ).all()
    return [Worker(**row._asdict()) for row in rows]


def everyone(conn: Connection) -> list[Worker]:
    """Every worker ever registered, alive or not, by executor id."""
    rows = conn.execute(select(workers).order_by(workers.c.executor_id)).all()
    return [Worker(**row._asdict()) for row in rows]
