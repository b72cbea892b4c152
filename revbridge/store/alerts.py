"""Alert rules' state on disk: firing or ok, since when, and whether the change was announced.

One row per alert name (``rb_alert_states``). ``state`` is ``firing`` or ``ok``; ``since`` is
when the rule entered that state; ``value`` the condition's value at the last evaluation,
as a decimal string; ``notified_at`` when the current state was announced on the webhook,
null while that announcement is still owed (a new firing, or its resolution). A rule first
seen ``ok`` owes nothing, and neither does the resolution of a firing that was never
announced. ``detail`` holds the rule as evaluated and the delivery bookkeeping: the
``claim`` (who is sending, since when), ``attempts`` and ``last_error``.

Every write runs in one transaction that first locks the row (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers), so two evaluators at once
see each other's claim and exactly one sends. A claim lapses after ``lease`` (the sender
crashed mid-send); a failed send clears it so that the next evaluation tries again, and
``notified_at`` is only set once the webhook answered 2xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update

from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import alert_states as table

FIRING = "firing"
OK = "ok"
_DELIVERY_KEYS = ("claim", "attempts", "last_error")


@dataclass(frozen=True)
class AlertState:
    name: str
    state: str  # firing | ok
    value: str | None  # decimal string; None when the condition has no data
    since: datetime | None
    notified_at: datetime | None  # None: the current state is still to be announced
    evaluated_at: datetime
    detail: dict[str, Any]

    @property
    def owed(self) -> bool:
        """The current state still has to be announced."""
        return self.notified_at is None


@dataclass(frozen=True)
class Observation:
    """What one evaluation of a rule saw."""

    name: str
    firing: bool
    value: str | None
    detail: dict[str, Any]  # the rule as evaluated: condition, threshold, owner …


def _row(row: Any) -> AlertState:
    return AlertState(**row._asdict())


def get(conn: Connection, name: str, *, lock: bool = False) -> AlertState | None:
    query = select(table).where(table.c.name == name)
    row = conn.execute(query.with_for_update() if lock else query).first()
    return None if row is None else _row(row)


def listing(conn: Connection) -> list[AlertState]:
    return [_row(r) for r in conn.execute(select(table).order_by(table.c.name)).all()]


def forget_others(conn: Connection, names: list[str]) -> int:
    """Drop the states of rules no longer in the policy; returns how many."""
    return conn.execute(delete(table).where(table.c.name.not_in(names))).rowcount


def observe(
    conn: Connection, seen: Observation, now: datetime, claimer: str, lease: timedelta
) -> tuple[AlertState, bool]:
    """Record one evaluation; ``(the row now, claimed)``. ``claimed`` means the caller now
    owns the owed announcement and must report :func:`delivered` or :func:`failed`."""
    state = FIRING if seen.firing else OK
    claim = {"by": claimer, "at": now.isoformat()}
    inserted = insert_ignore(
        conn,
        table,
        {
            "name": seen.name,
            "state": state,
            "value": seen.value,
            "since": now,
            "notified_at": None if seen.firing else now,
            "evaluated_at": now,
            "detail": {**seen.detail, **({"claim": claim} if seen.firing else {})},
        },
    )
    row = get(conn, seen.name, lock=True)
    assert row is not None
    if inserted:
        return row, seen.firing
    since, notified_at = row.since, row.notified_at
    delivery = {k: row.detail[k] for k in _DELIVERY_KEYS if k in row.detail}
    if state != row.state:
        since, delivery = now, {}
        # a firing never announced needs no resolution either
        notified_at = now if state == OK and row.notified_at is None else None
    claimed = notified_at is None and not _claim_held(delivery.get("claim"), now, lease)
    if claimed:
        delivery["claim"] = claim
    _write(conn, seen.name, state, seen.value, since, notified_at, now, seen.detail | delivery)
    return AlertState(
        seen.name, state, seen.value, since, notified_at, now, seen.detail | delivery
    ), claimed


def delivered(conn: Connection, name: str, state: str, since: datetime, now: datetime) -> bool:
    """The announcement of ``state`` (entered at ``since``) got a 2xx; False when the rule
    has moved on meanwhile (nothing recorded then)."""
    row = _owed(conn, name, state, since)
    if row is None:
        return False
    detail = {k: v for k, v in row.detail.items() if k not in _DELIVERY_KEYS}
    detail["attempts"] = int(row.detail.get("attempts", 0)) + 1
    conn.execute(update(table).where(table.c.name == name).values(notified_at=now, detail=detail))
    return True


def failed(conn: Connection, name: str, state: str, since: datetime, error: str) -> None:
    """The announcement failed: release the claim so the next evaluation sends again."""
    row = _owed(conn, name, state, since)
    if row is None:
        return
    detail = {k: v for k, v in row.detail.items() if k != "claim"}
    detail["attempts"] = int(row.detail.get("attempts", 0)) + 1
    detail["last_error"] = error[:500]
    conn.execute(update(table).where(table.c.name == name).values(detail=detail))


def _owed(conn: Connection, name: str, state: str, since: datetime) -> AlertState | None:
    row = get(conn, name, lock=True)
    if row is None or row.state != state or row.since != since or not row.owed:
        return None
    return row


def _claim_held(claim: Any, now: datetime, lease: timedelta) -> bool:
    if not isinstance(claim, dict) or not isinstance(claim.get("at"), str):
        return False
    at = datetime.fromisoformat(claim["at"])
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return now - at < lease


def _write(
    conn: Connection,
    name: str,
    state: str,
    value: str | None,
    since: datetime | None,
    notified_at: datetime | None,
    now: datetime,
    detail: dict[str, Any],
) -> None:
    conn.execute(
        update(table)
        .where(table.c.name == name)
        .values(
            state=state,
            value=value,
            since=since,
            notified_at=notified_at,
            evaluated_at=now,
            detail=detail,
        )
    )
