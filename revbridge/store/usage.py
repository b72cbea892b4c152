"""Usage records on disk: what ``POST /v1/usage`` accepted, once per record id, and how its
report to the billing meter stands.

A record is written once (``rb_usage_records``, by ``record_id``) with the hash of its
body: the same record again is told apart from another body under the same id by that
hash alone. Its state then moves ``pending`` → ``reported`` (with the billing system's
reference) or ``failed`` (with why); a failed record that is retried can still be
reported, a reported one never moves again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Connection, select, update

from revbridge.store.dialect import insert_ignore
from revbridge.store.tables import usage_records

__all__ = ["State", "UsageRow", "get", "insert", "mark_failed", "mark_reported"]


class State(StrEnum):
    PENDING = "pending"  # accepted, not reported to billing yet
    REPORTED = "reported"  # billing's meter has it
    FAILED = "failed"  # billing refused it; its case says what to do


@dataclass(frozen=True)
class UsageRow:
    record_id: str
    customer_id: str
    sku: str
    quantity: Decimal
    occurred_at: datetime
    source: str | None
    body_hash: str
    state: State = State.PENDING
    reported_at: datetime | None = None
    billing_ref: str | None = None
    error: str | None = None


def insert(conn: Connection, row: UsageRow) -> bool:
    """Write ``row`` unless its record id is taken; True when it was written."""
    return insert_ignore(
        conn,
        usage_records,
        {
            "record_id": row.record_id,
            "customer_id": row.customer_id,
            "sku": row.sku,
            "quantity": format(row.quantity, "f"),
            "occurred_at": row.occurred_at,
            "source": row.source,
            "body_hash": row.body_hash,
            "state": State.PENDING,
            "created_at": datetime.now(UTC),
        },
    )


def get(conn: Connection, record_id: str) -> UsageRow | None:
    found = conn.execute(
        select(usage_records).where(usage_records.c.record_id == record_id)
    ).first()
    if found is None:
        return None
    return UsageRow(
        record_id=found.record_id,
        customer_id=found.customer_id,
        sku=found.sku,
        quantity=Decimal(found.quantity),
        occurred_at=found.occurred_at,
        source=found.source,
        body_hash=found.body_hash,
        state=State(found.state),
        reported_at=found.reported_at,
        billing_ref=found.billing_ref,
        error=found.error,
    )


def mark_reported(conn: Connection, record_id: str, billing_ref: str) -> None:
    conn.execute(
        update(usage_records)
        .where(usage_records.c.record_id == record_id)
        .values(
            state=State.REPORTED, billing_ref=billing_ref, reported_at=datetime.now(UTC), error=None
        )
    )


def mark_failed(conn: Connection, record_id: str, error: str) -> None:
    """Billing refused the record (or its case was cancelled); a reported one stays so."""
    conn.execute(
        update(usage_records)
        .where(usage_records.c.record_id == record_id, usage_records.c.state != State.REPORTED)
        .values(state=State.FAILED, error=error[:2000])
    )
