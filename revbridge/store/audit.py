"""The append-only audit log: who did what, when, with before/after, hash-chained.

Each row's ``hash`` is SHA-256 over the previous row's hash and the row's canonical
JSON; the counter row ``audit`` holds the head (last sequence and hash). ``verify``
walks the chain and names the first row that was edited, inserted or deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from revbridge.store import counters
from revbridge.store.tables import audit_log

BATCH = 1000


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    correlation_id: str | None
    before: Any
    after: Any
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainReport:
    """Outcome of :func:`verify`: ``ok``, rows checked and the first bad row."""

    ok: bool
    rows: int
    bad_seq: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain valid: {self.rows} rows"
        return f"audit chain broken at row {self.bad_seq}: {self.reason}"


def _plain(value: Any) -> Any:
    return None if value is None else json.loads(json.dumps(value, default=str))


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _fields(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    correlation_id: str | None,
    before: Any,
    after: Any,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "correlation_id": correlation_id,
        "before": before,
        "after": after,
    }


def append(
    conn: Connection,
    *,
    actor: str,
    action: str,
    subject: str,
    before: Any = None,
    after: Any = None,
    correlation_id: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's transaction (commits with the change it records)."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    before, after = _plain(before), _plain(after)
    seq, prev = counters.advance(conn, counters.AUDIT)
    prev_hash = prev or counters.GENESIS_HASH
    fields = _fields(seq, at, actor, action, subject, correlation_id, before, after)
    digest = entry_hash(prev_hash, fields)
    conn.execute(
        audit_log.insert().values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            correlation_id=correlation_id,
            before=before,
            after=after,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    counters.set_hash(conn, counters.AUDIT, digest)
    return AuditEntry(
        seq, at, actor, action, subject, correlation_id, before, after, prev_hash, digest
    )


def entries(engine: Engine, after_seq: int = 0, limit: int | None = None) -> Iterator[AuditEntry]:
    """Yield audit entries in order, in batches."""
    seen = 0
    while limit is None or seen < limit:
        batch = BATCH if limit is None else min(BATCH, limit - seen)
        with engine.connect() as conn:
            rows = conn.execute(
                select(audit_log)
                .where(audit_log.c.seq > after_seq)
                .order_by(audit_log.c.seq)
                .limit(batch)
            ).all()
        if not rows:
            return
        for row in rows:
            yield AuditEntry(**row._asdict())
        seen += len(rows)
        after_seq = rows[-1].seq


def verify(engine: Engine) -> ChainReport:
    """Walk the chain; report the first edited, inserted or deleted row."""
    expected_seq, expected_prev, count = 1, counters.GENESIS_HASH, 0
    for e in entries(engine):
        if e.seq != expected_seq:
            return ChainReport(False, count, e.seq, f"rows {expected_seq}..{e.seq - 1} deleted")
        if e.prev_hash != expected_prev:
            return ChainReport(False, count, e.seq, "previous-hash link broken (row inserted)")
        fields = _fields(
            e.seq, e.at, e.actor, e.action, e.subject, e.correlation_id, e.before, e.after
        )
        if entry_hash(e.prev_hash, fields) != e.hash:
            return ChainReport(False, count, e.seq, "content edited (hash mismatch)")
        expected_seq, expected_prev, count = e.seq + 1, e.hash, count + 1
    with engine.connect() as conn:
        head_seq, head_hash = counters.peek(conn, counters.AUDIT)
    if head_seq != count or (head_hash or counters.GENESIS_HASH) != expected_prev:
        if head_seq > count:
            reason = f"rows {count + 1}..{head_seq} deleted from the end"
            return ChainReport(False, count, count + 1, reason)
        return ChainReport(False, count, head_seq + 1, "row appended outside the audit log")
    return ChainReport(True, count)
