"""/metrics over a real store (SQLite and PostgreSQL): what the scrape says is what is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import Connection, Engine

from revbridge.canonical import InvoiceStatus
from revbridge.observability.calls import CallRecord
from revbridge.observability.metrics import Metrics, render
from revbridge.store import cases, deals, inbox, receivables
from revbridge.store.db import create_store_engine
from revbridge.store.deals import Stage, Status
from revbridge.store.inbox import InboundEvent
from revbridge.testing.factories import invoice_for, uk_subscription_order


def scrape(metrics: Metrics) -> dict[str, list[Sample]]:
    body, content_type = render(metrics)
    assert content_type.startswith("text/plain")
    return {
        family.name: family.samples
        for family in text_string_to_metric_families(body.decode("utf-8"))
    }


def value(samples: list[Sample], name: str, **labels: str) -> float:
    matches = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(matches) == 1, (name, labels, samples)
    return matches[0]


def deal(conn: Connection, key: str, closed_ago: timedelta, stage: Stage, status: Status) -> None:
    closed = datetime.now(UTC) - closed_ago
    deals.register(conn, key, f"quote_to_cash:{key}", f"corr-{key}", closed_at=closed)
    if deals.ORDER.index(stage) >= deals.ORDER.index(Stage.ACCEPTED):
        deals.advance(conn, key, stage=Stage.ACCEPTED)  # stamps accepted_at, as the flow does
    deals.advance(conn, key, stage=stage, status=status)


def case(conn: Connection, key: str, owner: str, failure_class: str) -> None:
    cases.raise_case(
        conn,
        deal_key=key,
        workflow_id=f"quote_to_cash:{key}",
        owner=owner,
        failure_class=failure_class,
        rule="customer.tax_id",
        message="missing tax id",
        guidance="add the tax id in the CRM, then resume",
        context={},
        actions=["resume"],
        correlation_id=f"corr-{key}",
    )


def test_business_metrics_match_the_store(store_engine: Engine) -> None:
    with store_engine.begin() as conn:
        deal(conn, "d1", timedelta(minutes=10), Stage.ACTIVATED, Status.ACTIVATED)
        deal(conn, "d2", timedelta(hours=3), Stage.ACTIVATED, Status.ACTIVATED)
        deal(conn, "d3", timedelta(minutes=1), Stage.ACCEPTED, Status.RUNNING)
        deal(conn, "d4", timedelta(minutes=5), Stage.VALIDATED, Status.EXCEPTION)
        deal(conn, "d5", timedelta(minutes=2), Stage.CUSTOMER_READY, Status.EXCEPTION)
        case(conn, "d4", "sales_ops", "data")
        case(conn, "d5", "finance_ops", "data")
        case(conn, "d5", "finance_ops", "data")  # a repeat updates the open case
        accepted = sum(1 for d in deals.by_status(conn) if d.accepted_at and d.closed_at)
        in_store = cases.open_counts(conn)

    families = scrape(Metrics(store_engine))

    assert value(families["revbridge_business_metrics_up"], "revbridge_business_metrics_up") == 1
    q2o = families["revbridge_quote_to_order_seconds"]
    assert accepted == 3
    assert value(q2o, "revbridge_quote_to_order_seconds_count") == accepted
    assert value(q2o, "revbridge_quote_to_order_seconds_bucket", le="60.0") == 0
    assert value(q2o, "revbridge_quote_to_order_seconds_bucket", le="900.0") == 2
    assert value(q2o, "revbridge_quote_to_order_seconds_bucket", le="+Inf") == 3
    assert 3 * 3600 < value(q2o, "revbridge_quote_to_order_seconds_sum") < 4 * 3600
    o2i = families["revbridge_order_to_invoice_seconds"]
    assert value(o2i, "revbridge_order_to_invoice_seconds_count") == 0

    open_cases = families["revbridge_open_cases"]
    scraped = {(s.labels["owner"], s.labels["failure_class"]): s.value for s in open_cases}
    assert scraped == {key: float(n) for key, n in in_store.items()}
    assert sum(scraped.values()) == 2
    oldest = families["revbridge_oldest_open_case_seconds"]
    assert {s.labels["owner"] for s in oldest} == {"sales_ops", "finance_ops"}
    assert all(0 <= s.value < 60 for s in oldest)

    by_status = families["revbridge_deals_total"]
    assert value(by_status, "revbridge_deals_total", status="activated") == 2
    assert value(by_status, "revbridge_deals_total", status="exception") == 2
    assert value(by_status, "revbridge_deals_total", status="running") == 1
    assert value(by_status, "revbridge_deals_total", status="cancelled") == 0
    lag = value(families["revbridge_sync_lag_seconds"], "revbridge_sync_lag_seconds", object="deal")
    assert 0 <= lag < 60


def test_empty_store_scrapes_zeroes(store_engine: Engine) -> None:
    families = scrape(Metrics(store_engine))

    q2o = families["revbridge_quote_to_order_seconds"]
    assert value(q2o, "revbridge_quote_to_order_seconds_count") == 0
    assert families["revbridge_open_cases"] == []
    lag = families["revbridge_sync_lag_seconds"]
    assert value(lag, "revbridge_sync_lag_seconds", object="deal") == 0
    dupes = families["revbridge_duplicates_suppressed"]
    assert value(dupes, "revbridge_duplicates_suppressed_total") == 0


def test_duplicate_events_are_counted_durably(store_engine: Engine) -> None:
    event = InboundEvent("salesforce", "e1", "opportunity.closed_won", {}, "deal:006A", "v1")
    with store_engine.begin() as conn:
        inbox.record(conn, event)
        inbox.record(conn, event)
        inbox.record(conn, InboundEvent("salesforce", "e2", "x", {}, "deal:006A", "v1"))
    families = scrape(Metrics(store_engine))
    dupes = families["revbridge_duplicates_suppressed"]
    assert value(dupes, "revbridge_duplicates_suppressed_total") == 2


def test_connector_calls_retries_and_waits_are_counted() -> None:
    metrics = Metrics()
    metrics.observe_call(CallRecord("netsuite", "submit_sales_order", "retryable", 503, 0.2, 1, 0))
    metrics.observe_call(CallRecord("netsuite", "submit_sales_order", "ok", 200, 0.3, 2, 1.5))
    metrics.observe_call(CallRecord("stripe", "create_customer", "ok", 200, 0.05, 1, 0.0))
    metrics.observe_request("get", "/v1/deals/{deal_key}", 200, 0.012)

    families = scrape(metrics)

    calls = families["revbridge_connector_calls"]
    labels = {"system": "netsuite", "operation": "submit_sales_order"}
    assert value(calls, "revbridge_connector_calls_total", **labels, outcome="ok") == 1
    assert value(calls, "revbridge_connector_calls_total", **labels, outcome="retryable") == 1
    seconds = families["revbridge_connector_call_seconds"]
    assert value(seconds, "revbridge_connector_call_seconds_count", **labels) == 2
    retries = families["revbridge_connector_retries"]
    assert value(retries, "revbridge_connector_retries_total", system="netsuite") == 1
    assert [s for s in retries if s.labels.get("system") == "stripe"] == []
    waits = families["revbridge_rate_limit_wait_seconds"]
    assert value(waits, "revbridge_rate_limit_wait_seconds_total", system="netsuite") == 1.5
    requests = families["revbridge_http_requests"]
    route = "/v1/deals/{deal_key}"
    assert (
        value(requests, "revbridge_http_requests_total", method="GET", route=route, status="200")
        == 1
    )
    assert "revbridge_quote_to_order_seconds" not in families  # no engine, no business metrics


def test_each_metrics_instance_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.observe_call(CallRecord("avalara", "quote_tax", "ok", 200, 0.1, 1, 0.0))
    assert "revbridge_connector_calls_total" in render(first)[0].decode()
    assert "avalara" not in render(second)[0].decode()


def test_an_unreadable_store_still_scrapes(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # never migrated
    try:
        families = scrape(Metrics(engine))
    finally:
        engine.dispose()

    up = families["revbridge_business_metrics_up"]
    assert value(up, "revbridge_business_metrics_up") == 0
    assert "revbridge_open_cases" not in families
    assert "revbridge_connector_calls" in families


def test_invoice_to_cash_and_days_sales_outstanding_per_entity(store_engine: Engine) -> None:
    """Two UK invoices issued 10 days ago: one paid after 4 days, one still owed. DSO over
    the 90-day window = owed / billed x 90 = 1/2 x 90 = 45 days."""
    now = datetime.now(UTC)
    issued = now - timedelta(days=10)
    template = invoice_for(uk_subscription_order()).model_copy(update={"issued_at": issued})
    with store_engine.begin() as conn:
        paid = template.model_copy(
            update={
                "invoice_id": "in_paid",
                "status": InvoiceStatus.PAID,
                "amount_paid": template.total,
            }
        )
        receivables.save_invoice(
            conn, "stripe:in_paid", "d1", "c1", "UK01", paid, issued + timedelta(days=4)
        )
        owed = template.model_copy(update={"invoice_id": "in_owed"})
        receivables.save_invoice(conn, "stripe:in_owed", "d1", "c1", "UK01", owed)

    families = scrape(Metrics(store_engine))

    cash = families["revbridge_invoice_to_cash_seconds"]
    assert value(cash, "revbridge_invoice_to_cash_seconds_count") == 1
    assert value(cash, "revbridge_invoice_to_cash_seconds_sum") == 4 * 86400
    dso = families["revbridge_days_sales_outstanding"]
    days = value(dso, "revbridge_days_sales_outstanding", legal_entity="UK01", currency="GBP")
    assert days == 45.0
