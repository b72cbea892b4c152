"""Business SLA metrics, computed from the store each time Prometheus scrapes.

The store is the truth: deals, cases and the inbox's duplicate counter are durable and
shared by every process, so the figures are the same whichever process is scraped and
survive restarts. Receivables are read from the canonical invoices: invoice to cash per
invoice, and days sales outstanding per legal entity and currency. Each scrape runs a
handful of aggregate queries plus one pass over the ``(closed_at, accepted_at)`` pairs of
accepted deals (streamed, two columns).

The figures themselves are module-level functions (:func:`quote_to_order_seconds`,
:func:`deal_sync_lag_seconds`, :func:`oldest_open_case_seconds`, …) shared with the alert
rules of :mod:`revbridge.observability.alerts`; ``revbridge_alert_firing`` reports those
rules' last evaluated states.

If the store cannot be read, the scrape still succeeds: the business families are left
out and ``revbridge_business_metrics_up`` is 0.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from revbridge.cases.model import CaseState
from revbridge.store import alerts, cases, inbox
from revbridge.store.deals import Status
from revbridge.store.tables import deals, exception_cases, invoices

log = logging.getLogger(__name__)

#: Seconds to days: 1 s … 30 days, for business durations.
BUSINESS_BUCKETS: tuple[float, ...] = (
    1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 43200,
    86400, 172800, 345600, 604800, 1209600, 2592000,
)  # fmt: skip


def histogram_buckets(
    values: Iterable[float], bounds: Sequence[float] = BUSINESS_BUCKETS
) -> tuple[list[tuple[str, float]], float]:
    """Cumulative ``(le, count)`` pairs ending in ``+Inf``, and the sum of ``values``."""
    counts = [0] * (len(bounds) + 1)
    total = 0.0
    for value in values:
        total += value
        index = next((i for i, bound in enumerate(bounds) if value <= bound), len(bounds))
        counts[index] += 1
    buckets: list[tuple[str, float]] = []
    running = 0
    for bound, count in zip([*map(float, bounds), float("inf")], counts, strict=True):
        running += count
        buckets.append(("+Inf" if bound == float("inf") else repr(bound), float(running)))
    return buckets, total


def elapsed(now: datetime, then: datetime | None) -> float:
    """Seconds from ``then`` to ``now``, never negative (0 when ``then`` is unknown)."""
    return 0.0 if then is None else max(0.0, (now - then).total_seconds())


class BusinessCollector(Collector):
    """Reads deals, cases and the inbox at scrape time; register it on a registry."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> list[Metric]:
        return []  # nothing at registration time: do not touch the store then

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "revbridge_business_metrics_up",
            "1 when the business metrics could be read from the store, 0 otherwise.",
        )
        try:
            with self.engine.connect() as conn:
                families = self.families(conn, datetime.now(UTC))
        except SQLAlchemyError:
            log.warning("business metrics: the store could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def families(self, conn: Connection, now: datetime) -> list[Metric]:
        return [
            self._quote_to_order(conn),
            self._order_to_invoice(conn),
            self._invoice_to_cash(conn),
            self._days_sales_outstanding(conn, now),
            self._sync_lag(conn, now),
            *self._cases(conn, now),
            self._deals_by_status(conn),
            self._alerts(conn),
            CounterMetricFamily(
                "revbridge_duplicates_suppressed",
                "Inbound events recognised as duplicates by the inbox (durable count).",
                value=inbox.duplicates_suppressed(conn),
            ),
        ]

    def _quote_to_order(self, conn: Connection) -> Metric:
        buckets, total = histogram_buckets(quote_to_order_seconds(conn))
        return HistogramMetricFamily(
            "revbridge_quote_to_order_seconds",
            "Time from closed-won in the CRM to the order accepted by the ERP, per deal.",
            buckets=buckets,
            sum_value=total,
        )

    def _order_to_invoice(self, conn: Connection) -> Metric:
        buckets, total = histogram_buckets(order_to_invoice_seconds(conn))
        return HistogramMetricFamily(
            "revbridge_order_to_invoice_seconds",
            "Time from the order accepted by the ERP to its first invoice in billing, per deal.",
            buckets=buckets,
            sum_value=total,
        )

    def _invoice_to_cash(self, conn: Connection) -> Metric:
        buckets, total = histogram_buckets(s for _, s in invoice_to_cash_samples(conn))
        return HistogramMetricFamily(
            "revbridge_invoice_to_cash_seconds",
            "Time from an invoice posted by billing to it being paid in full, per invoice.",
            buckets=buckets,
            sum_value=total,
        )

    def _days_sales_outstanding(self, conn: Connection, now: datetime) -> Metric:
        family = GaugeMetricFamily(
            "revbridge_days_sales_outstanding",
            f"Receivables still owed over what was invoiced in the last {DSO_DAYS} days, "
            f"times {DSO_DAYS}, per legal entity and currency (days).",
            labels=["legal_entity", "currency"],
        )
        for (entity, currency), days in sorted(days_sales_outstanding(conn, now).items()):
            family.add_metric([entity, currency], float(days))
        return family

    def _sync_lag(self, conn: Connection, now: datetime) -> Metric:
        lag = GaugeMetricFamily(
            "revbridge_sync_lag_seconds",
            "Age of the oldest object still being synchronised (0 when none is).",
            labels=["object"],
        )
        lag.add_metric(["deal"], deal_sync_lag_seconds(conn, now))
        return lag

    def _cases(self, conn: Connection, now: datetime) -> list[Metric]:
        open_cases = GaugeMetricFamily(
            "revbridge_open_cases",
            "Open exception cases by owner and failure class.",
            labels=["owner", "failure_class"],
        )
        for (owner, failure_class), count in sorted(cases.open_counts(conn).items()):
            open_cases.add_metric([owner, failure_class], count)
        oldest = GaugeMetricFamily(
            "revbridge_oldest_open_case_seconds",
            "Age of the oldest open exception case per owner (absent when it has none).",
            labels=["owner"],
        )
        for owner, age in sorted(oldest_open_case_seconds(conn, now).items()):
            oldest.add_metric([owner], age)
        return [open_cases, oldest]

    def _deals_by_status(self, conn: Connection) -> Metric:
        counts = {status.value: 0 for status in Status}
        rows = conn.execute(select(deals.c.status, func.count()).group_by(deals.c.status)).all()
        counts.update({str(status): int(n) for status, n in rows})
        family = GaugeMetricFamily(
            "revbridge_deals_total",
            "Deals by status now (status=activated: the deals activated).",
            labels=["status"],
        )
        for status, n in counts.items():
            family.add_metric([status], n)
        return family

    def _alerts(self, conn: Connection) -> Metric:
        family = GaugeMetricFamily(
            "revbridge_alert_firing",
            "1 while the policy's alert rule is firing, 0 when it is not (as last evaluated).",
            labels=["alert"],
        )
        for state in alerts.listing(conn):
            family.add_metric([state.name], 1 if state.state == alerts.FIRING else 0)
        return family


# The figures themselves: shared by the collector above and by the alert rules
# (revbridge.observability.alerts), so an alert and the metric it mirrors never disagree.


Sample = tuple[datetime, float]  # (when it ended, seconds it took)


def quote_to_order_samples(conn: Connection, since: datetime | None = None) -> Iterator[Sample]:
    """Closed-won → accepted by the ERP, per deal that has both (accepted since ``since``),
    streamed 1000 at a time."""
    query = select(deals.c.closed_at, deals.c.accepted_at).where(
        deals.c.closed_at.is_not(None), deals.c.accepted_at.is_not(None)
    )
    if since is not None:
        query = query.where(deals.c.accepted_at >= since)
    for closed, accepted in conn.execution_options(yield_per=1000).execute(query):
        yield accepted, elapsed(accepted, closed)


def order_to_invoice_samples(conn: Connection, since: datetime | None = None) -> Iterator[Sample]:
    """Accepted by the ERP → first invoice issued by billing (Stripe's
    ``invoice.finalized``, see ``POST /v1/webhooks/stripe``), per deal that has both
    (invoiced since ``since``)."""
    query = select(deals.c.accepted_at, deals.c.invoiced_at).where(
        deals.c.accepted_at.is_not(None), deals.c.invoiced_at.is_not(None)
    )
    if since is not None:
        query = query.where(deals.c.invoiced_at >= since)
    for accepted, invoiced in conn.execution_options(yield_per=1000).execute(query):
        yield invoiced, elapsed(invoiced, accepted)


def invoice_to_cash_samples(conn: Connection, since: datetime | None = None) -> Iterator[Sample]:
    """Posted by billing → paid in full, per invoice (paid since ``since``)."""
    query = select(invoices.c.issued_at, invoices.c.paid_at).where(
        invoices.c.status == "paid",
        invoices.c.issued_at.is_not(None),
        invoices.c.paid_at.is_not(None),
    )
    if since is not None:
        query = query.where(invoices.c.paid_at >= since)
    for issued, paid in conn.execution_options(yield_per=1000).execute(query):
        yield paid, elapsed(paid, issued)


#: The window days sales outstanding is measured over.
DSO_DAYS = 90


def days_sales_outstanding(conn: Connection, now: datetime) -> dict[tuple[str, str], Decimal]:
    """Per legal entity and currency: what is still owed on invoices issued in the last
    :data:`DSO_DAYS` days over what they billed, times the days (the count-back-free DSO
    finance teams quote), to the tenth of a day. Entities with nothing invoiced are absent."""
    since = now - timedelta(days=DSO_DAYS)
    rows = conn.execute(
        select(
            invoices.c.legal_entity,
            invoices.c.currency,
            invoices.c.total,
            invoices.c.amount_paid,
            invoices.c.status,
        ).where(invoices.c.issued_at >= since)
    ).all()
    billed: dict[tuple[str, str], Decimal] = {}
    owed: dict[tuple[str, str], Decimal] = {}
    for entity, currency, total, paid, status in rows:
        key = (str(entity or "unknown"), str(currency))
        billed[key] = billed.get(key, Decimal(0)) + Decimal(total)
        still = (
            Decimal(0) if status in ("void", "uncollectible") else Decimal(total) - Decimal(paid)
        )
        owed[key] = owed.get(key, Decimal(0)) + max(Decimal(0), still)
    return {
        key: (owed[key] / total * DSO_DAYS).quantize(Decimal("0.1"))
        for key, total in billed.items()
        if total > 0
    }


def quote_to_order_seconds(conn: Connection) -> Iterator[float]:
    return (seconds for _, seconds in quote_to_order_samples(conn))


def order_to_invoice_seconds(conn: Connection) -> Iterator[float]:
    return (seconds for _, seconds in order_to_invoice_samples(conn))


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def deal_sync_lag_seconds(conn: Connection, now: datetime) -> float:
    """Age of the oldest deal still ``running`` (since received); 0 when none is."""
    oldest = conn.execute(
        select(func.min(deals.c.received_at)).where(deals.c.status == Status.RUNNING)
    ).scalar_one_or_none()
    return elapsed(now, _as_utc(oldest))


def oldest_open_case_seconds(conn: Connection, now: datetime) -> dict[str, float]:
    """Age of each owner's oldest open case; owners without one are absent."""
    rows = conn.execute(
        select(exception_cases.c.owner, func.min(exception_cases.c.created_at))
        .where(exception_cases.c.state == str(CaseState.OPEN))
        .group_by(exception_cases.c.owner)
    ).all()
    return {str(owner): elapsed(now, _as_utc(created)) for owner, created in rows}


def open_cases_by_owner(conn: Connection) -> dict[str, int]:
    """Open cases per owner (the sum of ``revbridge_open_cases`` over failure classes)."""
    totals: dict[str, int] = {}
    for (owner, _failure_class), count in cases.open_counts(conn).items():
        totals[owner] = totals.get(owner, 0) + count
    return totals


def _as_utc(value: datetime | None) -> datetime | None:
    """Aggregates (``min``) bypass the column type: SQLite hands back naive UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
