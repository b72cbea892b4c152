"""Fleet membership: a gone worker is claimed by exactly one survivor, a live one never."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from revbridge.store import workers

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
DEAD_PID = 2**22 + 17  # above Linux's pid_max default: no such process


def _ids(found: list[workers.Worker]) -> list[str]:
    return [w.executor_id for w in found]


def test_silent_stopped_and_exited_workers_are_gone_live_ones_are_not(
    store_engine: Engine,
) -> None:
    with store_engine.begin() as conn:
        workers.register(conn, "alive", "other-host", 1, NOW)
        workers.register(conn, "silent", "other-host", 1, NOW - timedelta(seconds=31))
        workers.register(conn, "stopped", "other-host", 1, NOW)
        workers.stop(conn, "stopped", NOW)
        workers.register(conn, "exited", "this-host", DEAD_PID, NOW)
        workers.register(conn, "running-here", "this-host", os.getpid(), NOW)
        found = workers.gone(conn, 30, "this-host", me="alive", now=NOW)
        live = workers.fleet(conn, 30, NOW)
    assert sorted(_ids(found)) == ["exited", "silent", "stopped"]
    assert _ids(live) == ["alive", "exited", "running-here"]


def test_exactly_one_survivor_claims_a_gone_worker(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        workers.register(conn, "w1", "h", 1, NOW - timedelta(minutes=5))
    results = []
    for survivor in ("w2", "w3", "w2"):
        with store_engine.begin() as conn:
            results.append(workers.claim(conn, "w1", survivor, NOW))
    assert results == [True, False, False]
    with store_engine.begin() as conn:
        assert workers.gone(conn, 30, "h", me="w2", now=NOW) == []
        (row,) = [w for w in workers.everyone(conn) if w.executor_id == "w1"]
    assert row.recovered_by == "w2"


def test_a_taken_over_worker_learns_it_at_its_next_heartbeat_and_may_rejoin(
    store_engine: Engine,
) -> None:
    with store_engine.begin() as conn:
        workers.register(conn, "w1", "h", 1, NOW)
        assert workers.heartbeat(conn, "w1", NOW)
        assert workers.claim(conn, "w1", "w2", NOW)
        assert not workers.heartbeat(conn, "w1", NOW)
        workers.register(conn, "w1", "h", 2, NOW + timedelta(seconds=1))
        assert workers.heartbeat(conn, "w1", NOW + timedelta(seconds=2))
        (row,) = [w for w in workers.everyone(conn) if w.executor_id == "w1"]
    assert (row.pid, row.recovered_by, row.stopped_at) == (2, None, None)
