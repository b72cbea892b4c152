"""The embedded event log reads back in offset order; config versions keep history."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from revbridge.store import config_versions
from revbridge.stream import sql_log


def _event(i: int) -> dict[str, object]:
    return {
        "id": f"evt-{i}",
        "type": "order.accepted",
        "subject": f"order/{i}",
        "correlationid": f"c-{i}",
        "specversion": "1.0",
        "source": "/revbridge",
    }


def test_events_read_back_by_offset_once_each(store_engine: Engine) -> None:
    for i in range(1, 6):
        with store_engine.begin() as conn:
            assert sql_log.append(conn, _event(i)) == i
    with store_engine.begin() as conn:
        assert sql_log.append(conn, _event(3)) is None
    events = sql_log.read(store_engine, after=2, limit=10)
    assert [e.offset for e in events] == [3, 4, 5]
    assert events[0].event["subject"] == "order/3"
    assert sql_log.head(store_engine) == 5


def test_concurrent_appends_get_gap_free_offsets(store_engine: Engine) -> None:
    def worker(start: int) -> None:
        for i in range(start, start + 20):
            with store_engine.begin() as conn:
                sql_log.append(conn, _event(i))

    threads = [threading.Thread(target=worker, args=(k * 100,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    offsets = [e.offset for e in sql_log.read(store_engine, limit=1000)]
    assert offsets == list(range(1, 81))


def test_config_versions_record_each_new_policy_once(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        first = config_versions.record(conn, "a" * 64, "version: 1", "revbridge.yaml", "ops")
        again = config_versions.record(conn, "a" * 64, "version: 1", "revbridge.yaml", "ops")
        second = config_versions.record(conn, "b" * 64, "version: 1 #", "revbridge.yaml", "ops")
        assert first.id == again.id
        assert [v.policy_hash[0] for v in config_versions.history(conn)] == ["b", "a"]
        assert config_versions.active(conn) == second


def test_only_one_open_case_per_deal(store_engine: Engine) -> None:
    insert = text(
        "INSERT INTO rb_exception_cases (case_id, deal_key, state, owner, failure_class, rule,"
        " message, guidance, context, actions, occurrences, created_at, updated_at)"
        " VALUES (:id, 'deal-1', :state, 'sales_ops', 'validation', 'r', 'm', '', '{}', '[]', 1,"
        " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    with store_engine.begin() as conn:
        conn.execute(insert, {"id": "c1", "state": "resolved"})
        conn.execute(insert, {"id": "c2", "state": "open"})
    with pytest.raises(IntegrityError), store_engine.begin() as conn:
        conn.execute(insert, {"id": "c3", "state": "open"})
