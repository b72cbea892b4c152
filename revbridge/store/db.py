"""Engine factory: one URL in, a configured engine out, for SQLite or PostgreSQL.

SQLite runs in WAL mode with a busy timeout, foreign keys on, and every transaction
started with ``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing on
lock upgrade. ``durability="strict"`` makes each commit durable before it returns
(SQLite ``synchronous=FULL``, PostgreSQL ``synchronous_commit=on``); ``"fast"``
survives a process crash but may lose the last commits on power loss.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

Durability = Literal["strict", "fast"]
DEFAULT_URL = "sqlite:///./revbridge.db"


def normalise_url(url: str | URL) -> URL:
    """Map ``postgresql://`` to the psycopg 3 driver; leave other URLs alone."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


#: How long PostgreSQL lets a session sit idle inside an open transaction (revbridge's
#: transactions are a few statements long; only a frozen process comes near this).
IDLE_IN_TRANSACTION_MS = 10_000


def create_store_engine(
    url: str | URL = DEFAULT_URL, durability: Durability = "strict", **kwargs: Any
) -> Engine:
    """Build the engine for revbridge's tables at ``url``."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, durability, **kwargs)
    options = "-c synchronous_commit=" + ("on" if durability == "strict" else "off")
    # A worker frozen inside a transaction (a paused VM, SIGSTOP) must not hold its row
    # locks for ever: the server ends such a transaction, so the fleet can take over.
    options += f" -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
    connect_args = dict(kwargs.pop("connect_args", {}))
    url_options = parsed.query.get("options", "")
    if url_options:
        parsed = parsed.difference_update_query(["options"])
    given = " ".join(o for o in (str(url_options), connect_args.get("options", "")) if o)
    connect_args["options"] = f"{given} {options}".strip()
    return create_engine(
        parsed, connect_args=connect_args, pool_pre_ping=True, future=True, **kwargs
    )


def _sqlite_engine(url: URL, durability: Durability, **kwargs: Any) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": 30, "check_same_thread": False}, future=True, **kwargs
    )
    synchronous = "FULL" if durability == "strict" else "NORMAL"

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
