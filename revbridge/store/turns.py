"""Per-account turns: the deals of one account are booked one at a time, in close order.

A deal takes its place once it has been validated (nothing has been written anywhere yet);
it may go when no other deal of the same account is running and no earlier-closed one is
waiting (ties broken by deal key). It gives the turn back when it ends — activated, compensated or
cancelled — and the next deal in line is named so it can be woken. A deal that holds an
open case after it wrote something keeps its turn: the account's later deals wait for that
case, so an upsell is never booked before the order it amends.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, and_, or_, select, update

from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import account_turns as turns

WAITING, RUNNING, DONE = "waiting", "running", "done"


def take(
    conn: Connection,
    account: str,
    deal_key: str,
    workflow_id: str,
    closed_at: datetime,
    now: datetime | None = None,
) -> bool:
    """Queue the deal (once) and say whether it may run now."""
    now = now or datetime.now(UTC)
    insert_ignore(
        conn,
        turns,
        {
            "account": account,
            "deal_key": deal_key,
            "workflow_id": workflow_id,
            "closed_at": closed_at,
            "state": WAITING,
            "updated_at": now,
        },
    )
    mine = conn.execute(
        select(turns.c.closed_at, turns.c.state).where(
            turns.c.account == account, turns.c.deal_key == deal_key
        )
    ).one()
    if mine.state != WAITING:
        return True  # running already (a resumed or recovered run), or over
    earlier = conn.execute(
        select(turns.c.deal_key)
        .where(
            turns.c.account == account,
            turns.c.deal_key != deal_key,
            or_(
                turns.c.state == RUNNING,
                and_(
                    turns.c.state == WAITING,
                    or_(
                        turns.c.closed_at < mine.closed_at,
                        and_(turns.c.closed_at == mine.closed_at, turns.c.deal_key < deal_key),
                    ),
                ),
            ),
        )
        .limit(1)
    ).first()
    if earlier is not None:
        return False
    conn.execute(
        update(turns)
        .where(turns.c.account == account, turns.c.deal_key == deal_key)
        .values(state=RUNNING, updated_at=now)
    )
    return True


def give_back(
    conn: Connection, account: str, deal_key: str, now: datetime | None = None
) -> str | None:
    """The deal is over; returns the workflow id of the account's next deal in line."""
    conn.execute(
        update(turns)
        .where(turns.c.account == account, turns.c.deal_key == deal_key)
        .values(state=DONE, updated_at=now or datetime.now(UTC))
    )
    following = conn.execute(
        select(turns.c.workflow_id)
        .where(turns.c.account == account, turns.c.state == WAITING)
        .order_by(turns.c.closed_at, turns.c.deal_key)
        .limit(1)
    ).first()
    return None if following is None else str(following.workflow_id)
