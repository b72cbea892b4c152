"""Invoices and payments as the API answers them: from the canonical records the
receivables flow keeps, by billing id or key, and a customer's payments by any of its ids."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import Engine

from revbridge.store import bindings, receivables
from revbridge.testing.factories import invoice_for, payment_for, uk_subscription_order


def _stored(store_engine: Engine) -> None:
    order = uk_subscription_order()
    invoice = invoice_for(order, invoice_id="in_1Abc")
    payment = payment_for(invoice, payment_id="inpay_1")
    with store_engine.begin() as conn:
        bindings.bind(conn, "customer", order.customer.customer_id, "stripe", "cus_42")
        receivables.save_invoice(
            conn, "stripe:in_1Abc", "salesforce:006X", "corr-1", "UK01", invoice
        )
        receivables.record_payment(conn, "stripe:inpay_1", "stripe:in_1Abc", payment)


def test_an_invoice_answers_its_canonical_record_and_payments(
    client: httpx.Client, store_engine: Engine, auth: dict[str, dict[str, str]]
) -> None:
    _stored(store_engine)
    for name in ("in_1Abc", "stripe:in_1Abc"):
        answer = client.get(f"/v1/invoices/{name}", headers=auth["finance_ops"])
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["invoice_id"], body["invoice_key"], body["deal"]) == (
            "in_1Abc",
            "stripe:in_1Abc",
            "salesforce:006X",
        )
        assert Decimal(body["invoice"]["total"]["amount"]) > 0
        assert [p["payment_key"] for p in body["payments"]] == ["stripe:inpay_1"]
    missing = client.get("/v1/invoices/in_unknown", headers=auth["finance_ops"])
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_a_customers_payments_by_its_own_id_or_billings(
    client: httpx.Client, store_engine: Engine, auth: dict[str, dict[str, str]]
) -> None:
    _stored(store_engine)
    customer = uk_subscription_order().customer.customer_id
    for name in (customer, "cus_42"):
        answer = client.get(f"/v1/customers/{name}/payments", headers=auth["finance_ops"])
        assert answer.status_code == 200, answer.text
        assert [p["payment"]["payment_id"] for p in answer.json()["payments"]] == ["inpay_1"]
    none = client.get("/v1/customers/nobody/payments", headers=auth["finance_ops"])
    assert none.json()["payments"] == []


def test_invoices_need_billing_read(
    client: httpx.Client, store_engine: Engine, auth: dict[str, dict[str, str]]
) -> None:
    _stored(store_engine)
    answer = client.get("/v1/invoices/in_1Abc", headers=auth["sales_ops"])
    assert answer.status_code == 403
