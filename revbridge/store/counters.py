"""Gap-free counters whose row lock serialises appends (audit sequence, event offsets).

Reading a counter ``FOR UPDATE`` inside the appending transaction makes commit order
equal counter order on PostgreSQL; on SQLite every transaction is ``BEGIN IMMEDIATE``,
which serialises writers already.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import counters

AUDIT = "audit"
EVENT_LOG = "event_log"
GENESIS_HASH = "0" * 64


def advance(conn: Connection, name: str, new_hash: str | None = None) -> tuple[int, str | None]:
    """Lock counter ``name``, bump it and return ``(new value, previous hash)``."""
    row = conn.execute(
        select(counters.c.value, counters.c.hash).where(counters.c.name == name).with_for_update()
    ).one()
    value = int(row.value) + 1
    conn.execute(update(counters).where(counters.c.name == name).values(value=value, hash=new_hash))
    return value, row.hash


def hold(conn: Connection, name: str) -> None:
    """Lock counter ``name`` for the rest of the transaction without moving it."""
    conn.execute(select(counters.c.value).where(counters.c.name == name).with_for_update()).one()


def peek(conn: Connection, name: str) -> tuple[int, str | None]:
    row = conn.execute(
        select(counters.c.value, counters.c.hash).where(counters.c.name == name)
    ).one()
    return int(row.value), row.hash


def set_hash(conn: Connection, name: str, value_hash: str) -> None:
    conn.execute(update(counters).where(counters.c.name == name).values(hash=value_hash))


def watermark(conn: Connection, name: str) -> int | None:
    """A durable read position (e.g. the last CDC replay id processed), or None."""
    value = conn.execute(
        select(counters.c.value).where(counters.c.name == f"watermark:{name}")
    ).scalar_one_or_none()
    return None if value is None else int(value)


def set_watermark(conn: Connection, name: str, value: int) -> None:
    key = f"watermark:{name}"
    if not insert_ignore(conn, counters, {"name": key, "value": value}):
        conn.execute(update(counters).where(counters.c.name == key).values(value=value))
