"""The console overview's figures, read from the store when the page is asked for.

Current totals come from :class:`~revbridge.observability.business_metrics.BusinessCollector`
(the same queries ``/metrics`` answers): deals by status, the sync lag of the oldest
running deal. Over a time window, per bucket, the p50 and p95 of:

- **quote → order**: closed-won in the CRM → order accepted by the ERP (per deal);
- **order → invoice**: order accepted → the deal's first invoice (``invoiced_at``, set by
  the receivables flow when it carries the first invoice; empty until invoices arrive);
- **invoice → cash**: an invoice posted by billing → paid in full, per invoice;
- **CRM → ERP sync lag**: closed-won in the CRM (or received, when the CRM gave no
  close time) → the sales order created in the ERP.

Open cases are aged against ``sla.case_age_max_s`` of their owner.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from revbridge.cases.model import CaseState, Owner
from revbridge.config.policy import Sla
from revbridge.observability.business_metrics import (
    BusinessCollector,
    Sample,
    days_sales_outstanding,
    elapsed,
    invoice_to_cash_samples,
    order_to_invoice_samples,
    percentile,
    quote_to_order_samples,
)
from revbridge.service.database import Database
from revbridge.store import alerts
from revbridge.store.deals import Status
from revbridge.store.tables import deal_steps, deals, exception_cases, invoices

#: Window name → (length, bucket).
WINDOWS: dict[str, tuple[timedelta, timedelta]] = {
    "1h": (timedelta(hours=1), timedelta(minutes=5)),
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "7d": (timedelta(days=7), timedelta(days=1)),
}


@dataclass(frozen=True)
class Point:
    start: datetime
    count: int
    p50: float | None
    p95: float | None


@dataclass(frozen=True)
class Series:
    title: str
    what: str
    target_p95_s: float | None
    points: list[Point]
    count: int
    p50: float | None
    p95: float | None

    @property
    def breached(self) -> bool:
        return self.target_p95_s is not None and (self.p95 or 0) > self.target_p95_s


@dataclass(frozen=True)
class OwnerAges:
    owner: Owner
    sla_s: int
    open: int
    within_half: int  # younger than half the SLA
    nearing: int  # between half the SLA and the SLA
    over: int  # older than the SLA
    oldest_s: float | None


@dataclass(frozen=True)
class Overview:
    now: datetime
    window: str
    statuses: list[tuple[str, int, int]]  # (status, touched today, all)
    sync_lag_s: float
    sync_lag_max_s: int
    owners: list[OwnerAges]
    series: list[Series]
    alerts: list[alerts.AlertState]


def bucketed(
    samples: Iterable[Sample], start: datetime, now: datetime, step: timedelta
) -> list[Point]:
    """One point per bucket from ``start`` to ``now`` (empty buckets included)."""
    count = max(1, math.ceil((now - start) / step))
    grouped: list[list[float]] = [[] for _ in range(count)]
    for at, seconds in samples:
        if start <= at <= now:
            grouped[min(int((at - start) / step), count - 1)].append(seconds)
    return [
        Point(start + i * step, len(values), percentile(values, 50), percentile(values, 95))
        for i, values in enumerate(grouped)
    ]


def _series(
    title: str,
    what: str,
    target: float | None,
    samples: list[Sample],
    start: datetime,
    now: datetime,
    step: timedelta,
) -> Series:
    values = [s for at, s in samples if start <= at <= now]
    return Series(
        title,
        what,
        target,
        bucketed(samples, start, now, step),
        len(values),
        percentile(values, 50),
        percentile(values, 95),
    )


def crm_to_erp(conn: Connection, start: datetime) -> list[Sample]:
    rows = conn.execute(
        select(deals.c.deal_key, deals.c.closed_at, deals.c.received_at, deal_steps.c.finished_at)
        .join(deal_steps, deal_steps.c.deal_key == deals.c.deal_key)
        .where(
            deal_steps.c.step == "submit_sales_order",
            deal_steps.c.outcome == "ok",
            deal_steps.c.finished_at >= start,
        )
        .order_by(deal_steps.c.id)
    ).all()
    first: dict[str, Sample] = {}
    for key, closed, received, finished in rows:
        first.setdefault(key, (finished, elapsed(finished, closed or received)))
    return list(first.values())


def owner_ages(conn: Connection, now: datetime, sla: Sla) -> list[OwnerAges]:
    rows = conn.execute(
        select(exception_cases.c.owner, exception_cases.c.created_at).where(
            exception_cases.c.state == CaseState.OPEN
        )
    ).all()
    limits = {str(owner): int(age) for owner, age in sla.case_age_max_s.items()}
    result = []
    for owner in Owner:
        limit = limits.get(owner, 86400)
        ages = [elapsed(now, created) for who, created in rows if who == owner]
        result.append(
            OwnerAges(
                owner,
                int(limit),
                len(ages),
                sum(1 for a in ages if a < limit / 2),
                sum(1 for a in ages if limit / 2 <= a <= limit),
                sum(1 for a in ages if a > limit),
                max(ages) if ages else None,
            )
        )
    return result


def statuses_today(
    conn: Connection, now: datetime, totals: dict[str, int]
) -> list[tuple[str, int, int]]:
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = conn.execute(select(deals.c.status).where(deals.c.updated_at >= midnight)).all()
    today = {status.value: 0 for status in Status}
    for (status,) in rows:
        today[str(status)] = today.get(str(status), 0) + 1
    return [(s, today.get(s, 0), totals.get(s, 0)) for s in today]


def firing_alerts(conn: Connection) -> list[alerts.AlertState]:
    """The alert rules firing now, as the evaluator left them, longest firing first."""
    firing = [a for a in alerts.listing(conn) if a.state == alerts.FIRING]
    return sorted(firing, key=lambda a: a.since or a.evaluated_at)


def _current(conn: Connection, now: datetime) -> tuple[dict[str, int], float]:
    """Deals by status and the sync lag, as ``/metrics`` reports them."""
    totals: dict[str, int] = {}
    lag = 0.0
    for family in BusinessCollector(conn.engine).families(conn, now):
        for sample in family.samples:
            if sample.name == "revbridge_deals_total":
                totals[sample.labels["status"]] = int(sample.value)
            elif sample.name == "revbridge_sync_lag_seconds" and sample.labels["object"] == "deal":
                lag = float(sample.value)
    return totals, lag


def floor(at: datetime, step: timedelta) -> datetime:
    """``at`` rounded down to a multiple of ``step`` since the epoch (hours, days in UTC)."""
    seconds = step.total_seconds()
    return datetime.fromtimestamp(math.floor(at.timestamp() / seconds) * seconds, UTC)


def latency_series(
    conn: Connection, sla: Sla, start: datetime, now: datetime, step: timedelta
) -> list[Series]:
    """Quote → order, order → invoice, invoice → cash and CRM → ERP sync lag over the
    window."""
    shown = [
        ("Quote → order", "closed-won in the CRM → order accepted by the ERP",
         sla.quote_to_order_p95_s, list(quote_to_order_samples(conn, start))),
        ("Order → invoice", "order accepted → first invoice posted in billing",
         sla.order_to_invoice_p95_s, list(order_to_invoice_samples(conn, start))),
        ("Invoice → cash", "invoice posted by billing → paid in full",
         sla.invoice_to_cash_p95_s, list(invoice_to_cash_samples(conn, start))),
        ("CRM → ERP sync lag", "closed-won in the CRM → sales order in the ERP",
         sla.sync_lag_max_s, crm_to_erp(conn, start)),
    ]  # fmt: skip
    return [
        _series(title, what, target, samples, start, now, step)
        for title, what, target, samples in shown
    ]


def overview(database: Database, sla: Sla, window: str, now: datetime | None = None) -> Overview:
    """Everything the overview page shows, over ``window`` (a key of :data:`WINDOWS`)."""
    with database.connect() as conn:
        return _overview(conn, sla, window, now or datetime.now(UTC))


def _overview(conn: Connection, sla: Sla, window: str, now: datetime) -> Overview:
    length, step = WINDOWS[window]
    start = floor(now - length + step, step)
    totals, lag = _current(conn, now)
    return Overview(
        now=now,
        window=window,
        statuses=statuses_today(conn, now, totals),
        sync_lag_s=lag,
        sync_lag_max_s=sla.sync_lag_max_s,
        owners=owner_ages(conn, now, sla),
        series=latency_series(conn, sla, start, now, step),
        alerts=firing_alerts(conn),
    )


def receivables(database: Database, now: datetime | None = None) -> dict[str, Any]:
    """Invoices and payments as carried: posted (something owed), in the ERP, paid, held by
    a payment failure, and days sales outstanding per legal entity and currency."""
    with database.connect() as conn:
        rows = conn.execute(select(invoices.c.status, invoices.c.total, invoices.c.canonical)).all()
        failed = conn.execute(
            select(func.count())
            .select_from(exception_cases)
            .where(
                exception_cases.c.state == "open",
                exception_cases.c.failure_class == "payments.failed",
            )
        ).scalar_one()
        dso = days_sales_outstanding(conn, now or datetime.now(UTC))
    owed = [row for row in rows if Decimal(row.total) > 0]
    in_erp = [row for row in owed if len((row.canonical or {}).get("external_refs") or []) > 1]
    return {
        "invoices_posted": len(owed),
        "erp_invoices": len(in_erp),
        "invoices_paid": sum(row.status == "paid" for row in owed),
        "payment_cases": int(failed),
        "days_sales_outstanding": {f"{e} {c}": str(d) for (e, c), d in sorted(dso.items())},
    }
