"""Account turns: one deal of an account at a time, earliest close first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, select

from revbridge.store import turns
from revbridge.store.tables import account_turns

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def _line(conn: Connection, account: str) -> list[tuple[str, str]]:
    """The account's deals not yet over, in turn order."""
    t = account_turns.c
    rows = conn.execute(
        select(t.deal_key, t.state)
        .where(t.account == account, t.state != turns.DONE)
        .order_by(t.closed_at, t.deal_key)
    ).all()
    return [(r.deal_key, r.state) for r in rows]


def test_the_earliest_closed_deal_goes_first_and_hands_over_in_order(
    store_engine: Engine,
) -> None:
    with store_engine.begin() as conn:
        assert turns.take(conn, "acct", "sf:B", "wf-B", T0 + timedelta(minutes=5))
        # A closed earlier but arrives later: B is already running, so A waits its turn.
        assert not turns.take(conn, "acct", "sf:A", "wf-A", T0)
        assert not turns.take(conn, "acct", "sf:C", "wf-C", T0 + timedelta(minutes=9))
        assert turns.take(conn, "other", "sf:X", "wf-X", T0 + timedelta(minutes=9))
        assert turns.take(conn, "acct", "sf:B", "wf-B", T0 + timedelta(minutes=5))  # a rerun
        assert turns.give_back(conn, "acct", "sf:B") == "wf-A"
        assert not turns.take(conn, "acct", "sf:C", "wf-C", T0 + timedelta(minutes=9))
        assert turns.take(conn, "acct", "sf:A", "wf-A", T0)
        assert _line(conn, "acct") == [("sf:A", "running"), ("sf:C", "waiting")]
        assert turns.give_back(conn, "acct", "sf:A") == "wf-C"
        assert turns.take(conn, "acct", "sf:C", "wf-C", T0 + timedelta(minutes=9))
        assert turns.give_back(conn, "acct", "sf:C") is None
        assert _line(conn, "acct") == []


def test_equal_close_times_are_ordered_by_deal_key(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        assert turns.take(conn, "acct", "sf:3", "wf-3", T0)
        assert not turns.take(conn, "acct", "sf:2", "wf-2", T0)
        assert not turns.take(conn, "acct", "sf:1", "wf-1", T0)
        assert turns.give_back(conn, "acct", "sf:3") == "wf-1"
        assert not turns.take(conn, "acct", "sf:2", "wf-2", T0)
        assert turns.take(conn, "acct", "sf:1", "wf-1", T0)
