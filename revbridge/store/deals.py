"""Deals and their timelines: where each deal stands and every step it went through.

``stage`` only moves forward (a late or replayed event never moves a deal backwards);
``status`` says whether it is running, waiting on an exception, or finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, or_, select, update

from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import deal_steps, deals


class Stage(StrEnum):
    RECEIVED = "received"  # the closed-won event was recorded
    VALIDATED = "validated"  # rules passed; legal entity and mappings decided
    CUSTOMER_READY = "customer_ready"  # the ERP customer (and parents) exist
    TAX_QUOTED = "tax_quoted"  # the tax engine recorded the tax document
    ORDER_SUBMITTED = "order_submitted"  # the sales order exists in the ERP
    BILLING_READY = "billing_ready"  # billing customer, subscription and items exist
    ACCEPTED = "accepted"  # the ERP accepted the order
    ACTIVATED = "activated"  # the CRM shows the ERP ids and "Activated"


ORDER = list(Stage)


class Status(StrEnum):
    RUNNING = "running"  # the flow is working on it
    EXCEPTION = "exception"  # waiting on an open exception case
    ACTIVATED = "activated"  # done
    COMPENSATED = "compensated"  # effects undone by an operator
    CANCELLED = "cancelled"  # stopped by an operator


@dataclass(frozen=True)
class Deal:
    deal_key: str
    workflow_id: str
    correlation_id: str
    name: str | None
    account: str | None
    amount: str | None
    currency: str | None
    stage: Stage
    status: Status
    refs: dict[str, Any]
    closed_at: datetime | None
    received_at: datetime
    accepted_at: datetime | None
    activated_at: datetime | None
    invoiced_at: datetime | None
    updated_at: datetime
    plan: dict[str, Any] | None = None  # the booked order plan, once activated


def _deal(row: Any) -> Deal:
    data = row._asdict()
    data["stage"], data["status"] = Stage(data["stage"]), Status(data["status"])
    return Deal(**data)


def register(
    conn: Connection,
    deal_key: str,
    workflow_id: str,
    correlation_id: str,
    closed_at: datetime | None = None,
) -> bool:
    """Create the deal row once; True when it is new."""
    now = datetime.now(UTC)
    return insert_ignore(
        conn,
        deals,
        {
            "deal_key": deal_key,
            "workflow_id": workflow_id,
            "correlation_id": correlation_id,
            "stage": Stage.RECEIVED,
            "status": Status.RUNNING,
            "refs": {},
            "closed_at": closed_at,
            "received_at": now,
            "updated_at": now,
        },
    )


def advance(
    conn: Connection,
    deal_key: str,
    stage: Stage | None = None,
    status: Status | None = None,
    refs: dict[str, Any] | None = None,
    **facts: Any,
) -> None:
    """Move the deal forward (never backwards), set its status, merge refs and facts."""
    current = get(conn, deal_key)
    if current is None:
        return
    values: dict[str, Any] = {"updated_at": datetime.now(UTC), **facts}
    if stage is not None and ORDER.index(stage) > ORDER.index(current.stage):
        values["stage"] = stage
        if stage is Stage.ACCEPTED:
            values.setdefault("accepted_at", values["updated_at"])
        if stage is Stage.ACTIVATED:
            values.setdefault("activated_at", values["updated_at"])
    if status is not None:
        values["status"] = status
    if refs:
        values["refs"] = {**current.refs, **refs}
    conn.execute(update(deals).where(deals.c.deal_key == deal_key).values(**values))


def mark_invoiced(conn: Connection, correlation_id: str, at: datetime) -> bool:
    """Record the deal's first invoice (billing said so); an earlier one stays. True when
    a deal with that correlation id exists."""
    row = conn.execute(
        select(deals.c.deal_key, deals.c.invoiced_at).where(
            deals.c.correlation_id == correlation_id
        )
    ).first()
    if row is None:
        return False
    if row.invoiced_at is None or at < row.invoiced_at:
        conn.execute(
            update(deals)
            .where(deals.c.deal_key == row.deal_key)
            .values(invoiced_at=at, updated_at=datetime.now(UTC))
        )
    return True


def get(conn: Connection, deal_key: str) -> Deal | None:
    row = conn.execute(select(deals).where(deals.c.deal_key == deal_key)).first()
    return None if row is None else _deal(row)


def by_correlation(conn: Connection, correlation_id: str) -> Deal | None:
    row = conn.execute(select(deals).where(deals.c.correlation_id == correlation_id)).first()
    return None if row is None else _deal(row)


def search(conn: Connection, text: str, limit: int = 50) -> list[Deal]:
    """Deals whose key, name, account, correlation id or any system id contains ``text``."""
    pattern = f"%{text}%"
    rows = conn.execute(
        select(deals)
        .where(
            or_(
                deals.c.deal_key.like(pattern),
                deals.c.name.like(pattern),
                deals.c.account.like(pattern),
                deals.c.correlation_id.like(pattern),
                deals.c.refs.cast(deals.c.name.type).like(pattern),
            )
        )
        .order_by(deals.c.updated_at.desc())
        .limit(limit)
    ).all()
    return [_deal(r) for r in rows]


def by_status(conn: Connection, status: Status | None = None, limit: int = 1000) -> list[Deal]:
    query = select(deals).order_by(deals.c.received_at)
    if status is not None:
        query = query.where(deals.c.status == status)
    return [_deal(r) for r in conn.execute(query.limit(limit)).all()]


def record_step(
    conn: Connection,
    deal_key: str,
    step: str,
    outcome: str,
    started_at: datetime,
    system: str | None = None,
    attempt: int = 1,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        deal_steps.insert().values(
            deal_key=deal_key,
            step=step,
            system=system,
            outcome=outcome,
            started_at=started_at,
            finished_at=datetime.now(UTC),
            attempt=attempt,
            detail=detail or {},
        )
    )


def timeline(conn: Connection, deal_key: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(deal_steps).where(deal_steps.c.deal_key == deal_key).order_by(deal_steps.c.id)
    ).all()
    return [r._asdict() for r in rows]
