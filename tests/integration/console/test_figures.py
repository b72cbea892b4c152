"""The overview's figures from a real store, and the chart geometry drawn from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console_pages import open_case
from sqlalchemy import Engine

from revbridge.canonical import InvoiceStatus
from revbridge.config.policy import Sla
from revbridge.console.charts import latency_chart
from revbridge.service import figures
from revbridge.store import deals, receivables
from revbridge.testing.factories import invoice_for, uk_subscription_order

NOW = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert figures.percentile(values, 50) == 50.0
    assert figures.percentile(values, 95) == 95.0
    assert figures.percentile([7.0], 95) == 7.0
    assert figures.percentile([], 50) is None


def test_samples_fall_into_their_buckets_and_empty_buckets_stay() -> None:
    start = NOW - timedelta(hours=3)
    samples = [(start + timedelta(minutes=10), 4.0), (start + timedelta(minutes=20), 8.0),
               (start + timedelta(hours=2, minutes=5), 30.0)]  # fmt: skip
    points = figures.bucketed(samples, start, NOW, timedelta(hours=1))
    assert [p.count for p in points] == [2, 0, 1]
    assert (points[0].p50, points[0].p95) == (4.0, 8.0)
    assert points[1].p50 is None


def _deal(engine: Engine, key: str, closed: datetime, accepted: datetime, customer: str) -> None:
    with engine.begin() as conn:
        deals.register(conn, key, f"quote_to_cash:{key}", f"corr-{key}", closed_at=closed)
        deals.record_step(conn, key, "submit_sales_order", "ok", accepted, "netsuite")
        deals.advance(conn, key, deals.Stage.ACCEPTED, status=deals.Status.ACTIVATED,
                      refs={"billing_customer": customer})  # fmt: skip


def test_latencies_come_from_deals_steps_and_invoices(store_engine: Engine) -> None:
    now = datetime.now(UTC)
    _deal(store_engine, "salesforce:006Q1", now - timedelta(seconds=70), now, "cus_1")
    _deal(store_engine, "salesforce:006Q2", now - timedelta(seconds=130), now, "cus_2")
    with store_engine.begin() as conn:
        assert deals.mark_invoiced(conn, "corr-salesforce:006Q1", datetime.now(UTC))
        issued = now - timedelta(days=3)
        paid = invoice_for(uk_subscription_order(), invoice_id="in_Q1").model_copy(
            update={"issued_at": issued, "status": InvoiceStatus.PAID}
        )
        receivables.save_invoice(
            conn, "stripe:in_Q1", "salesforce:006Q1", "corr-salesforce:006Q1", "UK01", paid, now
        )
    open_case(store_engine, "finance_ops", "salesforce:006C1")
    shown = figures.overview(store_engine, Sla(), "1h")
    quote, invoice, cash, lag = shown.series
    assert cash.count == 1
    assert 3 * 86400 - 5 <= (cash.p50 or 0) <= 3 * 86400 + 5
    assert quote.count == 2
    assert 69 <= (quote.p50 or 0) <= 75
    assert 129 <= (quote.p95 or 0) <= 135
    assert invoice.count == 1
    assert lag.count == 2
    assert dict((s, all_) for s, _today, all_ in shown.statuses)["activated"] == 2
    finance = next(o for o in shown.owners if o.owner == "finance_ops")
    assert (finance.open, finance.over, finance.sla_s) == (1, 0, 14400)
    assert shown.alerts == []


def test_a_target_far_above_the_data_is_named_not_drawn() -> None:
    start = NOW - timedelta(hours=1)
    near = figures.Series("q", "", 300.0, figures.bucketed([(NOW, 200.0)], start, NOW,
                          timedelta(minutes=5)), 1, 200.0, 200.0)  # fmt: skip
    chart = latency_chart(near, timedelta(minutes=5))
    assert chart.target_y is not None
    assert chart.target_note == ""
    assert len(chart.p95) == 1
    far = figures.Series("q", "", 86400.0, near.points, 1, 200.0, 200.0)
    chart = latency_chart(far, timedelta(minutes=5))
    assert chart.target_y is None
    assert chart.target_note == "p95 target 1 d: far above"
    assert all(bar.height > 0 for bar in chart.p95)
