"""The console's pages: what they show, and a clear 4xx page for every bad input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from console_pages import csrf_of, open_case
from sqlalchemy import Engine

from revbridge.config.example import EXAMPLE_POLICY
from revbridge.store import bindings, cases, config_versions, deals, receivables
from revbridge.store.tables import alert_states
from revbridge.testing.factories import invoice_for, uk_subscription_order

Browser = Callable[[str], httpx.Client]
EXAMPLE = EXAMPLE_POLICY
STEPS = [
    ("fetch_deal", "salesforce"),
    ("validate", None),
    ("upsert_erp_customer", "netsuite"),
    ("quote_tax", "avalara"),
    ("submit_sales_order", "netsuite"),
    ("ensure_billing_customer", "stripe"),
    ("write_back", "salesforce"),
]


def _activated_deal(engine: Engine, key: str = "salesforce:006ACT") -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        deals.register(
            conn, key, f"quote_to_cash:{key}", "corr-act", closed_at=now - timedelta(minutes=3)
        )
        deals.advance(
            conn, key, name="Initech renewal", account="Initech", amount="12000.50", currency="USD"
        )
        for step, system in STEPS:
            deals.record_step(conn, key, step, "ok", now - timedelta(seconds=2), system, detail={})
        deals.advance(
            conn,
            key,
            deals.Stage.ACCEPTED,
            refs={"erp_order": "SO-881", "billing_customer": "cus_9"},
        )
        deals.advance(conn, key, deals.Stage.ACTIVATED, status=deals.Status.ACTIVATED)
        bindings.bind(conn, "customer", "acct-001X", "netsuite", "4711")
        bindings.bind(conn, "customer", "acct-001X", "stripe", "cus_9")


def test_the_overview_shows_deals_cases_latencies_and_no_alerts(
    store_engine: Engine, browser: Browser
) -> None:
    _activated_deal(store_engine)
    open_case(store_engine, "finance_ops")
    page = browser("finance_ops").get("/console/")
    assert page.status_code == 200
    assert "No alert is firing." in page.text
    assert "Quote → order" in page.text
    assert "<svg" in page.text
    assert "finance_ops" in page.text
    for window in ("1h", "24h", "7d"):
        assert browser("auditor").get(f"/console/?window={window}").status_code == 200


def test_the_overview_lists_firing_alerts_only(store_engine: Engine, browser: Browser) -> None:
    now = datetime.now(UTC)
    with store_engine.begin() as conn:
        for name, state in (("finance-aging", "firing"), ("sync-lag", "ok")):
            conn.execute(
                alert_states.insert().values(
                    name=name, state=state, value="18000", since=now, notified_at=None,
                    evaluated_at=now, detail={"owner": "<finance_ops>"},
                )
            )  # fmt: skip
    page = browser("sales_ops").get("/console/")
    assert "finance-aging" in page.text
    assert "sync-lag" not in page.text
    assert "&lt;finance_ops&gt;" in page.text


def test_deals_are_found_by_name_any_system_id_or_correlation_id(
    store_engine: Engine, browser: Browser
) -> None:
    _activated_deal(store_engine)
    open_case(store_engine, "sales_ops", "salesforce:006OTHER", "Hooli")
    client = browser("sales_ops")
    for query in ("Initech", "SO-881", "corr-act", "4711", "cus_9"):  # 4711: an ERP binding
        page = client.get("/console/deals", params={"q": query})
        assert page.status_code == 200
        assert "salesforce:006ACT" in page.text, query
        assert "salesforce:006OTHER" not in page.text, query
    assert "salesforce:006OTHER" in client.get("/console/deals?status=exception").text


def test_a_deal_page_shows_its_timeline_ids_and_cases(
    store_engine: Engine, browser: Browser
) -> None:
    _activated_deal(store_engine)
    page = browser("sales_ops").get("/console/deals/salesforce:006ACT")
    assert page.status_code == 200
    for expected in (
        "submit_sales_order",
        "netsuite",
        "SO-881",
        "cus_9",
        "12,000.50 USD",
        "activated",
    ):
        assert expected in page.text


def test_a_deal_page_continues_with_its_invoices_and_their_cases(
    store_engine: Engine, browser: Browser
) -> None:
    _activated_deal(store_engine)
    order = uk_subscription_order()
    invoice = invoice_for(order, invoice_id="in_1Con").model_copy(update={"number": "ACME-0042"})
    with store_engine.begin() as conn:
        deal = deals.get(conn, "salesforce:006ACT")
        assert deal is not None
        receivables.save_invoice(
            conn, "stripe:in_1Con", deal.deal_key, deal.correlation_id, "UK01", invoice
        )
    case_id = open_case(store_engine, "finance_ops", "stripe:in_1Con")
    page = browser("finance_ops").get("/console/deals/salesforce:006ACT")
    assert page.status_code == 200
    for expected in ("Invoices", "ACME-0042", "posted", str(invoice.total.amount), case_id):
        assert expected in page.text, expected


def test_everything_shown_is_html_escaped(store_engine: Engine, browser: Browser) -> None:
    open_case(store_engine, "sales_ops", "salesforce:006XSS", "<script>alert(1)</script>")
    client = browser("sales_ops")
    for path in ("/console/deals", "/console/deals/salesforce:006XSS"):
        page = client.get(path)
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


BAD_INPUT = [
    ("/console/deals/salesforce:nope", 404, "There is no deal salesforce:nope"),
    ("/console/exceptions/case_nope", 404, "There is no exception case"),
    ("/console/no-such-page", 404, "no such page"),
    ("/console/?window=1y", 400, "window must be one of"),
    ("/console/exceptions?owner=ceo", 400, "owner must be one of"),
    ("/console/exceptions?state=lost", 400, "state must be"),
    ("/console/exceptions?age=" + "9" * 40, 400, "not valid"),
    ("/console/deals?status=lost", 400, "not valid"),
    ("/console/deals?q=" + "x" * 300, 400, "not valid"),
    ("/console/config?version=abc", 400, "not valid"),
    ("/console/config?version=99", 404, "no configuration version"),
]


def test_bad_input_is_a_clear_4xx_page(browser: Browser) -> None:
    client = browser("sales_ops")
    for path, status, says in BAD_INPUT:
        page = client.get(path)
        assert page.status_code == status, path
        assert page.headers["content-type"].startswith("text/html")
        assert says in page.text, path


def test_oversized_malformed_or_foreign_forms_are_4xx_and_change_nothing(
    store_engine: Engine, browser: Browser
) -> None:
    case_id = open_case(store_engine, "sales_ops")
    client = browser("sales_ops")
    token = csrf_of(client.get(f"/console/exceptions/{case_id}"))
    path = f"/console/exceptions/{case_id}/assign"
    form = "application/x-www-form-urlencoded"
    attempts = [
        (413, {"csrf": token, "assignee": "a" * 70_000}, None),
        (400, b"csrf=" + token.encode() + b"&assignee=%ff%fe", form),
        (400, b"\xff\xfe=1", form),
        (400, "&".join(f"f{i}=1" for i in range(2000)).encode(), form),
        (415, b'{"csrf": "x"}', "application/json"),
        (400, {"csrf": token, "assignee": "x" * 121}, None),
    ]
    for status, body, kind in attempts:
        if isinstance(body, dict):
            answer = client.post(path, data=body)
        else:
            answer = client.post(path, content=body, headers={"content-type": str(kind)})
        assert answer.status_code == status, (status, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html")
    with store_engine.connect() as conn:
        case = cases.get(conn, case_id)
    assert case is not None
    assert case.assignee is None


def test_a_body_over_the_api_limit_is_refused_before_the_console(browser: Browser) -> None:
    answer = browser("sales_ops").post(
        "/console/logout",
        content=b"x" * (2 << 20),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413


def test_the_configuration_page_shows_the_business_diff(
    store_engine: Engine, browser: Browser
) -> None:
    text = EXAMPLE.read_text()
    changed = text.replace("quote_to_order_p95_s: 300", "quote_to_order_p95_s: 600")
    assert changed != text
    with store_engine.begin() as conn:
        config_versions.record(conn, "a" * 64, text, "examples/revbridge.yaml", "ops")
        config_versions.record(conn, "b" * 64, changed, "examples/revbridge.yaml", "ops")
    page = browser("auditor").get("/console/config")
    assert page.status_code == 200
    assert "quote_to_order_p95_s 300 → 600" in page.text
    first = browser("auditor").get("/console/config?version=1")
    assert "first version" in first.text


def test_the_configuration_page_without_any_version(browser: Browser) -> None:
    page = browser("auditor").get("/console/config")
    assert page.status_code == 200
    assert "No policy has been loaded yet" in page.text


def test_pages_carry_security_headers_and_the_root_redirects(anonymous: httpx.Client) -> None:
    root = anonymous.get("/console")
    assert root.status_code in (307, 308)
    login = anonymous.get("/console/login")
    assert "default-src 'none'" in login.headers["content-security-policy"]
    assert login.headers["x-frame-options"] == "DENY"
    assert login.headers["cache-control"] == "no-store"
    css = anonymous.get("/console/static/console.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]
