"""Metered usage received for the billing meter (``POST /v1/usage``): checked, stored once
per record id and audited; the workers then report it (``revbridge.flows.usage``).

A record is refused, storing nothing, when its writer does not own usage (the policy's
``ownership.domains.usage``; audited as ``ownership.conflict``), when its SKU is not a
metered product of the policy's product map, when it happened more than 35 days ago or
more than 5 minutes ahead (billing meters refuse such events), or when revbridge has no
billing customer for its customer (no deal of that customer was booked). The same record
again is a duplicate; another body under a record id already taken is a conflict.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import Connection

from revbridge.canonical.ids import CanonicalId, check_id_characters
from revbridge.canonical.money import ExactDecimal
from revbridge.config.policy import PRODUCT, Policy
from revbridge.config.systems import ROLES
from revbridge.service.database import Database
from revbridge.store import audit, bindings
from revbridge.store import usage as records
from revbridge.store.usage import UsageRow

__all__ = [
    "MAX_AGE",
    "MAX_AHEAD",
    "Outcome",
    "Refused",
    "UsageRecord",
    "UsageReporter",
    "billing_customer",
    "body_hash",
    "submit",
]

#: How old usage may be: billing meters refuse events older than 35 days.
MAX_AGE = timedelta(days=35)
#: How far ahead a usage timestamp may be (clock skew), as billing meters allow.
MAX_AHEAD = timedelta(minutes=5)


_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def _rfc3339(value: object) -> object:
    """Text is RFC 3339 (not a bare date, a Unix time or a local time); a caller in
    Python may pass a datetime."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise PydanticCustomError(
            "rfc3339", "a timestamp is an RFC 3339 string such as '2027-01-15T10:00:00Z'"
        )
    return value


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise PydanticCustomError("quantity_negative", "a usage quantity is zero or more")
    return value


RecordId = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_id_characters)]
"""A usage record's id, chosen by its writer: visible text, at most 100 characters (the
longest identifier billing meters keep)."""


class UsageRecord(BaseModel):
    """One measurement of a customer's metered usage of a product."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_id: RecordId
    customer_id: CanonicalId
    sku: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_id_characters)]
    quantity: Annotated[ExactDecimal, AfterValidator(_not_negative)]
    timestamp: Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
    source: Annotated[str | None, Field(max_length=100, pattern=r"^[a-z][a-z0-9_-]*$")] = None

    @property
    def occurred_at(self) -> datetime:
        return self.timestamp.astimezone(UTC)


#: Starts the report of a stored record on the workers (by record id; starting it again
#: attaches to the same run).
UsageReporter = Callable[[str], Awaitable[None]]


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # new: stored, to be reported
    DUPLICATE = "duplicate"  # the same record was received before


@dataclass(frozen=True)
class Refused:
    """Why a record is refused, as the API answers it; nothing was stored."""

    status: int
    detail: str
    kind: str | None = None
    title: str | None = None
    field: str | None = None  # the body field at fault
    rule: str | None = None  # the policy rule a refused writer broke


def body_hash(record: UsageRecord) -> str:
    """What tells a resend from another body: the record's values, however written."""
    normal = {
        "record_id": record.record_id,
        "customer_id": record.customer_id,
        "sku": record.sku,
        "quantity": format(record.quantity.normalize(), "f"),
        "timestamp": record.occurred_at.isoformat(),
        "source": record.source,
    }
    return hashlib.sha256(json.dumps(normal, sort_keys=True).encode()).hexdigest()


def submit(
    database: Database, policy: Policy, record: UsageRecord, actor: str, now: datetime
) -> Outcome | Refused:
    """Store ``record`` once (audited as ``usage.accepted``), or say why not."""
    conflict = _ownership(policy, record)
    if conflict is not None:
        _refuse(database, record, actor, conflict)
        return conflict
    digest = body_hash(record)
    with database.begin() as conn:
        stored = records.get(conn, record.record_id)
        if stored is not None:
            return _again(stored, digest)
        refused = _check(conn, policy, record, now)
        if refused is not None:
            return refused
        row = UsageRow(
            record_id=record.record_id,
            customer_id=record.customer_id,
            sku=record.sku,
            quantity=record.quantity,
            occurred_at=record.occurred_at,
            source=record.source,
            body_hash=digest,
        )
        if not records.insert(conn, row):  # another request stored this id first
            stored = records.get(conn, record.record_id)
            assert stored is not None
            return _again(stored, digest)
        audit.append(
            conn,
            actor=actor,
            action="usage.accepted",
            subject=f"usage:{record.record_id}",
            after={
                "customer_id": record.customer_id,
                "sku": record.sku,
                "quantity": format(record.quantity, "f"),
                "occurred_at": record.occurred_at.isoformat(),
                "source": record.source,
            },
        )
    return Outcome.ACCEPTED


def billing_customer(conn: Connection, policy: Policy, customer_id: str) -> tuple[str, str] | None:
    """The customer's (billing system, id) as booked, in the policy's order; None when no
    deal of the customer reached billing."""
    billing = policy.systems_with_role("billing")
    bound = {b.system: b.external_id for b in bindings.for_canonical(conn, "customer", customer_id)}
    return next(((system, bound[system]) for system in billing if system in bound), None)


def _again(stored: UsageRow, digest: str) -> Outcome | Refused:
    if stored.body_hash == digest:
        return Outcome.DUPLICATE
    return Refused(
        409,
        f"usage record {stored.record_id} was received before with another body; a record id "
        "names one measurement: send a correction under a new record id",
    )


def _check(conn: Connection, policy: Policy, record: UsageRecord, now: datetime) -> Refused | None:
    product = policy.products.get(record.sku)
    if product is None:
        return Refused(
            422,
            f"unknown SKU {record.sku}: the policy's product map has no such product",
            field="sku",
        )
    if product.kind != "usage" or product.billing.usage_type != "metered":
        return Refused(
            422,
            f"SKU {record.sku} is not metered (kind {product.kind}, usage_type "
            f"{product.billing.usage_type}): usage is recorded for metered products only",
            field="sku",
        )
    if record.occurred_at < now - MAX_AGE:
        return Refused(
            422,
            f"timestamp {record.occurred_at.isoformat()} is more than {MAX_AGE.days} days ago: "
            "billing meters refuse usage that old",
            field="timestamp",
        )
    if record.occurred_at > now + MAX_AHEAD:
        return Refused(
            422,
            f"timestamp {record.occurred_at.isoformat()} is more than "
            f"{int(MAX_AHEAD.total_seconds() // 60)} minutes ahead",
            field="timestamp",
        )
    if billing_customer(conn, policy, record.customer_id) is None:
        return Refused(
            422,
            f"customer {record.customer_id} is unknown to billing: revbridge has booked no deal "
            "of this customer into a billing system yet, so there is nobody to bill the usage to",
            field="customer_id",
        )
    return None


def _ownership(policy: Policy, record: UsageRecord) -> Refused | None:
    """The policy's owner of ``usage`` may write it: ``shared`` lets anyone, a system only
    itself, a role the systems playing it, and ``product`` any writer that is neither a
    system of the policy nor a role. A record without ``source`` comes from the product."""
    owner = policy.ownership.domains.usage
    writer = record.source or PRODUCT
    if owner == "shared" or writer == owner:
        return None
    system = policy.systems.get(writer)
    if owner in policy.systems:
        allowed = False
    elif owner == PRODUCT:
        allowed = system is None and writer not in ROLES
    else:
        allowed = system is not None and system.role == owner
    if allowed:
        return None
    return Refused(
        409,
        f"usage is owned by {owner}; {writer} may not report it",
        kind="ownership-conflict",
        title="Owned by another system of record",
        rule=f"ownership.domains.usage: {owner}",
    )


def _refuse(database: Database, record: UsageRecord, actor: str, refused: Refused) -> None:
    with database.begin() as conn:
        audit.append(
            conn,
            actor=actor,
            action="ownership.conflict",
            subject=f"usage:{record.record_id}",
            after={"refused": [refused.rule], "writer": record.source or PRODUCT},
        )
