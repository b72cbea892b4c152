"""Worker heartbeats and takeover: no deal is left behind when a machine dies.

Every worker registers under its executor id, heartbeats every ``fleet.heartbeat_s`` and, on
each beat, looks for workers that are gone (stopped, silent for ``fleet.worker_timeout_s``,
or — on this host — whose process has exited). It claims each one in the store (exactly one
survivor wins the conditional update) and recovers its unfinished workflows through DBOS,
which re-enqueues them for whichever live worker dequeues first. A worker that finds it has
itself been taken over (it was silent too long, e.g. paused) stops: its workflows run
elsewhere now, and it must not keep running them beside their new owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable

from sqlalchemy import Engine

from revbridge.config.policy import Fleet
from revbridge.flows import runtime
from revbridge.store import workers

log = logging.getLogger(__name__)
LEGACY_EXECUTOR = "local"


def default_executor_id() -> str:
    """``host-pid``: unique among live workers; a restarted worker gets a new id and its
    predecessor's unfinished work is taken over as soon as its process is seen gone."""
    return f"{socket.gethostname()}-{os.getpid()}"


def take_over(engine: Engine, me: str, fleet: Fleet, host: str | None = None) -> list[str]:
    """One pass: claim every gone worker not yet claimed and recover its workflows; returns
    the executor ids taken over by this worker."""
    host = host or socket.gethostname()
    with engine.begin() as conn:
        candidates = workers.gone(conn, fleet.worker_timeout_s, host, me)
    taken = []
    for worker in candidates:
        with engine.begin() as conn:
            if not workers.claim(conn, worker.executor_id, me):
                continue
        count = runtime.recover([worker.executor_id])
        log.log(
            logging.WARNING if count else logging.DEBUG,
            "took over worker %s (last heartbeat %s): %d unfinished deal(s) recovered",
            worker.executor_id,
            worker.heartbeat_at.isoformat(),
            count,
        )
        taken.append(worker.executor_id)
    return taken


async def keep(
    engine: Engine,
    me: str,
    fleet: Fleet,
    stop: asyncio.Event,
    on_taken_over: Callable[[], None],
) -> None:
    """Heartbeat and take over until ``stop``; the caller leaves the fleet (:func:`leave`)
    once its workflows are shut down."""
    while not stop.is_set():
        await asyncio.to_thread(take_over, engine, me, fleet)
        if not await asyncio.to_thread(_beat, engine, me):
            log.error("worker %s was taken for gone and its deals were taken over: stopping", me)
            on_taken_over()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=fleet.heartbeat_s)


def join(engine: Engine, me: str) -> None:
    with engine.begin() as conn:
        # Workflows left by a version whose workers all ran as DBOS's default executor
        # (looked for before this worker is in the table: only the first one adopts them).
        workers.adopt_legacy(conn, LEGACY_EXECUTOR)
        workers.register(conn, me, socket.gethostname(), os.getpid())


def _beat(engine: Engine, me: str) -> bool:
    with engine.begin() as conn:
        return workers.heartbeat(conn, me)


def leave(engine: Engine, me: str) -> None:
    with engine.begin() as conn:
        workers.stop(conn, me)
