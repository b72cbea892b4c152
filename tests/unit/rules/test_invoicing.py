"""Does a billing invoice bill the booked order, and what the ERP invoice then holds."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from revbridge.canonical import ExternalRef, InvoiceStatus, Money
from revbridge.ports import (
    BilledInvoice,
    BilledLine,
    EntityContext,
    LineMapping,
    OrderPlan,
    TaxQuote,
)
from revbridge.rules.invoicing import erp_invoice, invoice_findings, tax_findings
from revbridge.testing.factories import gbp, uk_subscription_order

KINDS = {"1": "subscription", "2": "service", "3": "usage"}


def _plan() -> OrderPlan:
    order = uk_subscription_order()
    lines = {
        line.line_id: LineMapping(
            sku=line.sku,
            kind=KINDS[line.line_id],
            erp_item=f"item-{line.sku}",
            price_lookup_key=line.sku.lower(),
            usage_type="metered" if line.line_id == "3" else "licensed",
            tax_code="SW054000",
        )
        for line in order.lines
    }
    entity = EntityContext(
        code="UK01",
        name="Acme Cloud Ltd",
        country="GB",
        currency="GBP",
        erp_subsidiary="3",
        tax_company_code="ACMEUK",
    )
    return OrderPlan(order=order, hierarchy=(order.customer,), entity=entity, lines=lines)


def _line(line_id: str | None, amount: str, quantity: int = 1, tax: str = "0") -> BilledLine:
    return BilledLine(
        line_id=line_id,
        description=f"line {line_id}",
        quantity=Decimal(quantity),
        amount=gbp(amount),
        tax=gbp(tax),
        metered=line_id == "3",
    )


def _invoice(*lines: BilledLine, currency: str = "GBP", tax: str = "0") -> BilledInvoice:
    subtotal = Money.total((line.amount for line in lines), currency)
    taxed = Money.of(tax, currency)
    return BilledInvoice(
        ref=ExternalRef(system="stripe", id="in_1"),
        number="ACME-0001",
        status=InvoiceStatus.POSTED,
        currency=currency,
        lines=lines,
        subtotal=subtotal,
        tax=taxed,
        total=subtotal + taxed,
        amount_due=subtotal + taxed,
        amount_paid=Money.zero(currency),
        amount_remaining=subtotal + taxed,
        issued_at=datetime(2025, 1, 1, 1, tzinfo=UTC),
        due_date=date(2025, 1, 31),
    )


def test_an_invoice_billing_the_order_has_no_findings() -> None:
    plan = _plan()
    billed = _invoice(_line("1", "12000.00"), _line("2", "4000.00"), _line("3", "80.00", 64000))
    assert invoice_findings(plan, billed) == []


def test_a_period_of_a_subscription_may_bill_part_of_the_line() -> None:
    assert invoice_findings(_plan(), _invoice(_line("1", "1000.00"))) == []


@pytest.mark.parametrize(
    ("lines", "found"),
    [
        ((_line("1", "12000.01"),), "more than the order line's"),
        ((_line("1", "12000.00", quantity=2),), "bills 2 of PLAT-ANNUAL, the order has 1"),
        ((_line("2", "4500.00"),), "bills 4500.00 GBP, the order line is 4000.00 GBP"),
        ((_line(None, "10.00"),), "bills no line of order"),
        ((_line("9", "10.00"),), "bills no line of order"),
    ],
    ids=["over-billed", "seats", "service-amount", "unknown-line", "foreign-line"],
)
def test_a_difference_is_a_finding(lines: tuple[BilledLine, ...], found: str) -> None:
    findings = invoice_findings(_plan(), _invoice(*lines))
    assert len(findings) == 1
    assert found in findings[0]


def test_another_currency_is_one_finding_whatever_the_lines() -> None:
    billed = _invoice(
        BilledLine(
            line_id="1",
            description="x",
            quantity=Decimal(1),
            amount=Money.of("10", "EUR"),
            tax=Money.of("0", "EUR"),
        ),
        currency="EUR",
    )
    assert invoice_findings(_plan(), billed) == ["invoice in_1 is in EUR, the order in GBP"]


def test_lines_that_do_not_add_up_to_the_invoice_are_a_finding() -> None:
    billed = _invoice(_line("1", "1000.00")).model_copy(update={"subtotal": gbp("999.99")})
    [finding] = invoice_findings(_plan(), billed)
    assert "add up to 1000.00 GBP" in finding


def _quote(total: str, **lines: str) -> TaxQuote:
    return TaxQuote(
        document=ExternalRef(system="avalara", id="inv:in_1"),
        total_tax=gbp(total),
        line_tax={line_id: gbp(amount) for line_id, amount in lines.items()},
    )


def test_billing_tax_must_equal_the_engine_tax_when_billing_charged_tax() -> None:
    billed = _invoice(_line("1", "1000.00"), tax="200.00")
    assert tax_findings(billed, _quote("200.00", **{"1": "200.00"})) == []
    [finding] = tax_findings(billed, _quote("200.01", **{"1": "200.01"}))
    assert "charged 200.00 GBP" in finding
    assert "recorded 200.01 GBP" in finding


def test_untaxed_billing_is_no_tax_finding() -> None:
    assert tax_findings(_invoice(_line("1", "1000.00")), _quote("0", **{"1": "0"})) == []


def test_the_erp_invoice_bills_the_order_lines_with_the_engine_tax() -> None:
    plan = _plan()
    billed = _invoice(_line("1", "1000.00"), _line("2", "4000.00"))
    document = erp_invoice(plan, billed, _quote("1000.00", **{"1": "200.00", "2": "800.00"}))
    assert document.external_id == "in_1"
    assert [(x.line_id, x.position, x.amount, x.tax) for x in document.lines] == [
        ("1", 1, gbp("1000.00"), gbp("200.00")),
        ("2", 2, gbp("4000.00"), gbp("800.00")),
    ]
    assert document.issued_on == date(2025, 1, 1)
    assert document.due_on == date(2025, 1, 31)
    assert plan.order.correlation_id in document.memo


def test_an_order_line_billed_twice_on_one_invoice_carries_its_tax_once() -> None:
    billed = _invoice(_line("1", "600.00"), _line("1", "400.00"))
    document = erp_invoice(_plan(), billed, _quote("200.00", **{"1": "200.00"}))
    assert [x.tax for x in document.lines] == [gbp("200.00"), gbp("0")]
