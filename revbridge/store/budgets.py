"""Fleet-wide call budgets per external system, kept in the shared database.

Every worker draws from the same two things before it calls a system: a **slot** (one of
``max_concurrency`` rows; a lease with an expiry, so a worker that dies holding one gives
it back after the lease's time-to-live) and a **token** of a bucket refilled at
``requests_per_s`` up to ``burst``. Both are taken with conditional updates, so the
policy's limits hold across all workers, not per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, and_, delete, or_, select, update

from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import system_rates, system_slots


@dataclass(frozen=True)
class Limits:
    max_concurrency: int | None
    requests_per_s: float | None
    burst: int


def ensure(conn: Connection, system: str, limits: Limits, now: datetime | None = None) -> None:
    """Create the system's slots and bucket as the limits say (idempotent; fewer slots than
    before drops the extra ones)."""
    now = now or datetime.now(UTC)
    if limits.max_concurrency:
        for slot in range(limits.max_concurrency):
            insert_ignore(conn, system_slots, {"system": system, "slot": slot})
        conn.execute(
            delete(system_slots).where(
                system_slots.c.system == system, system_slots.c.slot >= limits.max_concurrency
            )
        )
    if limits.requests_per_s:
        insert_ignore(
            conn,
            system_rates,
            {"system": system, "tokens": float(limits.burst), "refilled_at": now},
        )


def lease(
    conn: Connection, system: str, holder: str, ttl_s: float, now: datetime | None = None
) -> int | None:
    """Take a free (or expired) slot for ``holder``; None when all are in use."""
    now = now or datetime.now(UTC)
    free = or_(system_slots.c.holder.is_(None), system_slots.c.expires_at < now)
    query = select(system_slots.c.slot).where(system_slots.c.system == system, free)
    if conn.dialect.name == "postgresql":
        query = query.order_by(system_slots.c.slot).limit(1).with_for_update(skip_locked=True)
    for slot in conn.execute(query).scalars().all():
        taken = conn.execute(
            update(system_slots)
            .where(and_(system_slots.c.system == system, system_slots.c.slot == slot, free))
            .values(holder=holder, expires_at=now + timedelta(seconds=ttl_s))
        )
        if taken.rowcount == 1:
            return int(slot)
    return None


def give_back(conn: Connection, system: str, slot: int, holder: str) -> None:
    conn.execute(
        update(system_slots)
        .where(
            system_slots.c.system == system,
            system_slots.c.slot == slot,
            system_slots.c.holder == holder,
        )
        .values(holder=None, expires_at=None)
    )


def take_token(conn: Connection, system: str, limits: Limits, now: datetime | None = None) -> float:
    """Take one token: 0.0 when taken, else the seconds until one will be there."""
    rate = limits.requests_per_s
    if not rate:
        return 0.0
    now = now or datetime.now(UTC)
    query = select(system_rates.c.tokens, system_rates.c.refilled_at).where(
        system_rates.c.system == system
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        return 0.0
    elapsed: float = max(0.0, (now - row.refilled_at).total_seconds())
    tokens: float = min(float(limits.burst), float(row.tokens) + elapsed * rate)
    if tokens < 1:
        conn.execute(
            update(system_rates)
            .where(system_rates.c.system == system)
            .values(tokens=tokens, refilled_at=now)
        )
        return (1 - tokens) / rate
    conn.execute(
        update(system_rates)
        .where(system_rates.c.system == system)
        .values(tokens=tokens - 1, refilled_at=now)
    )
    return 0.0


class SharedBudgets:
    """The connectors' view of the fleet budgets (``revbridge.connectors.http.SharedBudget``):
    wait for a slot and a token, call, give the slot back."""

    def __init__(self, engine: Engine, holder: str) -> None:
        self.engine = engine
        self.holder = holder
        self._known: dict[str, Limits] = {}
        self._events: dict[asyncio.AbstractEventLoop, dict[str, asyncio.Event]] = {}

    def _ensure(self, system: str, limits: Limits) -> None:
        if self._known.get(system) != limits:
            with self.engine.begin() as conn:
                ensure(conn, system, limits)
            self._known[system] = limits

    def _enter(self, system: str, limits: Limits, ttl_s: float) -> tuple[int | None, float]:
        """One try: (slot or None, seconds to wait before the next try)."""
        self._ensure(system, limits)
        with self.engine.begin() as conn:
            slot = lease(conn, system, self.holder, ttl_s) if limits.max_concurrency else -1
            if slot is None:
                return None, 0.0
            wait = take_token(conn, system, limits)
            if wait > 0 and slot >= 0:
                give_back(conn, system, slot, self.holder)
            return (slot, 0.0) if wait == 0 else (None, wait)

    async def enter(
        self,
        system: str,
        max_concurrency: int | None,
        requests_per_s: float | None,
        burst: int,
        ttl_s: float,
    ) -> int:
        """Wait until this call may go: returns the slot held (-1 when slots are unlimited)."""
        limits = Limits(max_concurrency, requests_per_s, burst)
        backoff = 0.005
        while True:
            slot, wait = await asyncio.to_thread(self._enter, system, limits, ttl_s)
            if slot is not None:
                return slot
            if wait:  # out of tokens: the bucket says when the next one comes
                await asyncio.sleep(wait)
                continue
            # All slots taken: a slot given back in this process wakes us at once; one given
            # back by another worker is found by the next try.
            freed = self._freed(system)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(freed.wait(), backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 0.05)

    def _freed(self, system: str) -> asyncio.Event:
        """This loop's signal that a slot of ``system`` was given back here."""
        events = self._events.setdefault(asyncio.get_running_loop(), {})
        if system not in events:
            events[system] = asyncio.Event()
        event = events[system]
        event.clear()
        return event

    async def leave(self, system: str, slot: int) -> None:
        if slot < 0:
            return
        await asyncio.to_thread(self._leave, system, slot)
        event = self._events.get(asyncio.get_running_loop(), {}).get(system)
        if event is not None:
            event.set()

    def _leave(self, system: str, slot: int) -> None:
        with self.engine.begin() as conn:
            give_back(conn, system, slot, self.holder)
