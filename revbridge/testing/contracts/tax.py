"""What every tax adapter promises, stated as tests: ``TaxPortContract``.

Subclass it in a ``Test…`` class and provide the fixtures it lists (see
``docs/writing-a-connector.md``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

import pytest

from revbridge.canonical import ExternalRef, Money, Order
from revbridge.ports import OrderPlan, TaxPort, TaxQuote
from revbridge.testing.contracts.harness import expect, required, run


class TaxRecords(Protocol):
    """What the tax engine holds, read from its sandbox directly (never the adapter)."""

    def documents_for(self, order: Order) -> list[ExternalRef]:
        """The current tax documents recorded for ``order``."""
        ...

    def is_voided(self, document: ExternalRef) -> bool:
        """Whether the document is voided (no longer counts towards a tax return)."""
        ...


class TaxPortContract:
    """The tax port: exact tax per line in the order's currency, one document per order.

    Fixtures to provide: ``adapter`` (the ``TaxPort`` on its sandbox, over HTTP),
    ``order_plan`` (an :class:`OrderPlan` of two or more lines, taxable where its
    entity owes tax) and ``tax_records`` (:class:`TaxRecords`).
    """

    @pytest.fixture
    def adapter(self) -> TaxPort:
        required("TaxPortContract", "adapter", "the TaxPort wired to its sandbox")

    @pytest.fixture
    def order_plan(self) -> OrderPlan:
        required("TaxPortContract", "order_plan", "a taxable plan of two or more lines")

    @pytest.fixture
    def tax_records(self) -> TaxRecords:
        required("TaxPortContract", "tax_records", "TaxRecords read from the sandbox")

    def test_tax_is_exact_money_per_line_summing_to_the_total(
        self, adapter: TaxPort, order_plan: OrderPlan
    ) -> None:
        quote = run(lambda: adapter.quote_tax(order_plan), adapter)

        assert_exact_tax(quote, order_plan.order)

    def test_a_taxable_order_is_charged_tax(self, adapter: TaxPort, order_plan: OrderPlan) -> None:
        quote = run(lambda: adapter.quote_tax(order_plan), adapter)

        assert quote.total_tax > Money.zero(order_plan.order.currency), (
            f"a taxable order was charged {quote.total_tax}"
        )

    def test_quoting_the_same_order_twice_records_one_document(
        self, adapter: TaxPort, order_plan: OrderPlan, tax_records: TaxRecords
    ) -> None:
        async def twice() -> tuple[TaxQuote, TaxQuote]:
            first = await adapter.quote_tax(order_plan)
            return first, await adapter.quote_tax(order_plan)

        first, second = run(twice, adapter)

        assert first.document == second.document, "one order, two document codes"
        expect(first.document.system, adapter.system, "the document ref's system")
        expect(second.line_tax, first.line_tax, "the line tax quoted again")
        expect(second.total_tax, first.total_tax, "the total tax quoted again")
        expect(tax_records.documents_for(order_plan.order), [first.document], "the documents")

    def test_a_changed_order_is_quoted_again_on_the_same_document(
        self, adapter: TaxPort, order_plan: OrderPlan, tax_records: TaxRecords
    ) -> None:
        assert len(order_plan.order.lines) >= 2, "order_plan needs two or more lines"
        kept = order_plan.order.lines[:-1]
        order = order_plan.order.model_copy(update={"lines": kept})
        changed = order_plan.model_copy(update={"order": order})

        async def quote_then_change() -> tuple[TaxQuote, TaxQuote]:
            first = await adapter.quote_tax(order_plan)
            return first, await adapter.quote_tax(changed)

        first, second = run(quote_then_change, adapter)

        assert second.document == first.document, "the changed order got a second document"
        assert_exact_tax(second, order)
        expect(tax_records.documents_for(order), [first.document], "the documents")

    def test_different_orders_get_different_documents(
        self, adapter: TaxPort, order_plan: OrderPlan
    ) -> None:
        other_order = order_plan.order.model_copy(
            update={"order_id": f"{order_plan.order.order_id}-2"}
        )
        other = order_plan.model_copy(update={"order": other_order})

        async def both() -> tuple[TaxQuote, TaxQuote]:
            return await adapter.quote_tax(order_plan), await adapter.quote_tax(other)

        first, second = run(both, adapter)

        assert first.document != second.document, "two orders share one tax document"

    def test_voiding_a_document_twice_leaves_it_voided(
        self, adapter: TaxPort, order_plan: OrderPlan, tax_records: TaxRecords
    ) -> None:
        async def void_twice() -> ExternalRef:
            quote = await adapter.quote_tax(order_plan)
            await adapter.void_tax(quote.document, order_plan.entity)
            await adapter.void_tax(quote.document, order_plan.entity)
            return quote.document

        document = run(void_twice, adapter)

        assert tax_records.is_voided(document), f"document {document} is not voided"


def assert_exact_tax(quote: TaxQuote, order: Order) -> None:
    """Tax for exactly the order's lines, as exact Decimal money in its currency, summed."""
    expect(
        sorted(quote.line_tax),
        sorted(line.line_id for line in order.lines),
        "the lines tax was quoted for",
    )
    for line_id, tax in [*quote.line_tax.items(), ("total", quote.total_tax)]:
        assert type(tax.amount) is Decimal, f"{line_id}: tax {tax.amount!r} is not a Decimal"
        expect(tax.currency, order.currency, f"{line_id}: the tax's currency")
        assert tax.is_whole_minor_units(), f"{line_id}: tax {tax} is finer than the currency"
    expect(
        quote.total_tax,
        Money.total(quote.line_tax.values(), order.currency),
        "the total tax against the sum of the line taxes",
    )
