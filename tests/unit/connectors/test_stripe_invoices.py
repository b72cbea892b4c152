"""Stripe invoices read as revbridge's billed invoices; the tax rates billing charges."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from revbridge.canonical import InvoiceStatus
from revbridge.connectors.stripe.invoices import billed_invoice
from revbridge.connectors.stripe.tax_rates import percentage, rate_params, rates_by_key
from revbridge.errors import DataError


def _invoice(**changes: Any) -> dict[str, Any]:
    invoice: dict[str, Any] = {
        "id": "in_1",
        "object": "invoice",
        "status": "open",
        "currency": "gbp",
        "number": "ACME-0001",
        "total": 12000,
        "total_excluding_tax": 10000,
        "total_taxes": [{"amount": 2000, "tax_behavior": "exclusive"}],
        "amount_due": 12000,
        "amount_paid": 0,
        "amount_remaining": 12000,
        "attempt_count": 0,
        "due_date": 1_767_225_600,
        "status_transitions": {"finalized_at": 1_767_139_200, "paid_at": None},
        "parent": {
            "type": "subscription_details",
            "subscription_details": {
                "subscription": "sub_1",
                "metadata": {"correlation_id": "corr-1", "revbridge_order_id": "ord-1"},
            },
        },
        "lines": {
            "data": [
                {
                    "id": "il_1",
                    "amount": 9000,
                    "quantity": 3,
                    "description": "3 x Platform",
                    "metadata": {"correlation_id": "corr-1"},
                    "discount_amounts": [{"amount": 500}],
                    "taxes": [{"amount": 1700}],
                    "period": {"start": 1_767_139_200, "end": 1_798_675_200},
                    "parent": {"subscription_item_details": {"subscription_item": "si_1"}},
                },
                {
                    "id": "il_2",
                    "amount": 1500,
                    "quantity": 1,
                    "description": "Setup",
                    "metadata": {"revbridge_line_id": "2"},
                    "taxes": [{"amount": 300}],
                },
            ]
        },
    }
    invoice.update(changes)
    return invoice


ITEMS = {
    "si_1": {
        "id": "si_1",
        "metadata": {"revbridge_line_id": "1"},
        "price": {"recurring": {"usage_type": "licensed"}},
    }
}


def test_lines_name_their_order_lines_and_amounts_are_net_of_discounts() -> None:
    billed = billed_invoice("stripe", _invoice(), ITEMS, [])
    assert [line.line_id for line in billed.lines] == ["1", "2"]
    assert [line.amount.amount for line in billed.lines] == [Decimal("85.00"), Decimal("15.00")]
    assert [line.tax.amount for line in billed.lines] == [Decimal("17.00"), Decimal("3.00")]
    assert billed.lines[0].quantity == 3
    assert (billed.subtotal.amount, billed.tax.amount, billed.total.amount) == (
        Decimal("100.00"),
        Decimal("20.00"),
        Decimal("120.00"),
    )
    assert (billed.correlation_id, billed.order_id) == ("corr-1", "ord-1")
    assert billed.status is InvoiceStatus.POSTED
    assert billed.failure is None


def test_statuses_and_payments() -> None:
    paid = _invoice(status="paid", amount_paid=12000, amount_remaining=0)
    payment = {
        "id": "inpay_1",
        "status": "paid",
        "amount_paid": 12000,
        "status_transitions": {"paid_at": 1_767_200_000},
    }
    open_one = {"id": "inpay_2", "status": "open", "amount_paid": None}
    billed = billed_invoice("stripe", paid, ITEMS, [payment, open_one])
    assert billed.status is InvoiceStatus.PAID
    assert [(p.ref.id, p.amount.amount) for p in billed.payments] == [
        ("inpay_1", Decimal("120.00"))
    ]
    partly = billed_invoice("stripe", _invoice(amount_paid=2000, amount_remaining=10000), ITEMS, [])
    assert partly.status is InvoiceStatus.PARTIALLY_PAID


def test_a_failed_collection_says_why_from_the_payment_intent() -> None:
    failed = _invoice(attempt_count=2, next_payment_attempt=None)
    error = {"code": "card_declined", "decline_code": "insufficient_funds"}
    billed = billed_invoice("stripe", failed, ITEMS, [], error)
    assert billed.failure == "payment declined: insufficient_funds (attempt 2, no retry scheduled)"
    assert billed_invoice("stripe", failed, ITEMS, []).failure == (
        "payment failed (attempt 2, no retry scheduled)"
    )


@pytest.mark.parametrize("changes", [{"status": "weird"}, {"currency": None}, {"id": 7}])
def test_an_answer_that_is_not_an_invoice_is_a_data_error(changes: dict[str, Any]) -> None:
    with pytest.raises(DataError):
        billed_invoice("stripe", _invoice(**changes), ITEMS, [])


@pytest.mark.parametrize(
    ("tax", "amount", "rate"),
    [
        ("2000.00", "10000.00", Decimal("20")),
        ("887.50", "10000.00", Decimal("8.875")),
        ("1.00", "3.00", Decimal("33.3333")),
        ("0", "100.00", None),
        ("5.00", "0", None),
    ],
)
def test_a_line_rate_is_its_tax_over_its_amount(
    tax: str, amount: str, rate: Decimal | None
) -> None:
    assert percentage(Decimal(tax), Decimal(amount)) == rate


def test_rates_are_found_by_their_mark_and_made_with_it() -> None:
    params = rate_params("GB:20")
    assert (params["percentage"], params["country"], params["inclusive"]) == ("20", "GB", "false")
    listed = [
        {"id": "txr_1", "active": True, "inclusive": False, "metadata": params["metadata"]},
        {
            "id": "txr_2",
            "active": False,
            "inclusive": False,
            "metadata": {"revbridge_tax_rate": "US:5"},
        },
        {"id": "txr_3", "active": True, "inclusive": False, "metadata": {}},
    ]
    assert rates_by_key(listed) == {"GB:20": "txr_1"}
