"""What every ERP adapter promises, stated as tests: ``ErpPortContract``.

Subclass it in a ``Test…`` class and provide the fixtures it lists (see
``docs/writing-a-connector.md``).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Protocol

import pytest

from revbridge.canonical import Customer, ExternalRef, Order
from revbridge.errors import ConflictError, DataError, NotFoundError
from revbridge.ports import (
    ErpOrderState,
    ErpPayment,
    ErpPort,
    OrderPlan,
    PostedErpInvoice,
    TaxQuote,
)
from revbridge.rules.invoicing import erp_invoice
from revbridge.testing.contracts.billed import billed_in_full, invoice_tax
from revbridge.testing.contracts.harness import eventually, expect, required, run

#: What an order reads as while the ERP has not decided on it, or once it accepted it.
SUBMITTED = frozenset({ErpOrderState.PENDING_APPROVAL, ErpOrderState.ACCEPTED})


class ErpRecords(Protocol):
    """What the ERP holds, read from its sandbox directly (never through the adapter)."""

    def customers_for(self, customer: Customer) -> list[ExternalRef]:
        """The customer records standing for ``customer``: by its id or by its name."""
        ...

    def parent_of(self, customer: ExternalRef) -> ExternalRef | None:
        """The parent the ERP records for a customer."""
        ...

    def orders_for(self, order: Order) -> list[ExternalRef]:
        """The sales orders standing for ``order``: by its id or by the deal it came from."""
        ...

    def invoices_for(self, external_id: str) -> list[ExternalRef]:
        """The invoices standing for the billing invoice ``external_id``."""
        ...

    def payments_for(self, external_id: str) -> list[ExternalRef]:
        """The customer payments standing for the billing payment ``external_id``."""
        ...


class ErpPortContract:
    """The ERP port: customers and orders exist once however often they are sent.

    Fixtures to provide: ``adapter`` (the ``ErpPort`` on its sandbox, over HTTP),
    ``order_plan`` (an :class:`OrderPlan` whose hierarchy has a parent and a child, root
    first, and whose items the ERP knows), ``refused_order`` (a plan the ERP refuses),
    ``unknown_order`` (a well-formed id of no order) and ``erp_records``
    (:class:`ErpRecords`). ``order_tax`` (the tax quote sent with the order) defaults
    to None.
    """

    @pytest.fixture
    def adapter(self) -> ErpPort:
        required("ErpPortContract", "adapter", "the ErpPort wired to its sandbox")

    @pytest.fixture
    def order_plan(self) -> OrderPlan:
        required("ErpPortContract", "order_plan", "a plan with a parent and child customer")

    @pytest.fixture
    def order_tax(self) -> TaxQuote | None:
        return None

    @pytest.fixture
    def refused_order(self) -> OrderPlan:
        required("ErpPortContract", "refused_order", "a plan whose data the ERP refuses")

    @pytest.fixture
    def unknown_order(self) -> ExternalRef:
        required("ErpPortContract", "unknown_order", "a well-formed id no sales order has")

    @pytest.fixture
    def erp_records(self) -> ErpRecords:
        required("ErpPortContract", "erp_records", "ErpRecords read from the sandbox")

    def test_upserting_a_customer_twice_keeps_one_customer(
        self, adapter: ErpPort, order_plan: OrderPlan, erp_records: ErpRecords
    ) -> None:
        root, entity = order_plan.hierarchy[0], order_plan.entity

        async def twice() -> tuple[ExternalRef, ExternalRef]:
            first = await adapter.upsert_customer(root, None, entity)
            return first, await adapter.upsert_customer(root, None, entity)

        first, second = run(twice, adapter)

        assert first == second, f"the same customer upserted twice got two refs: {first}, {second}"
        expect(first.system, adapter.system, "the ref's system")
        expect(erp_records.customers_for(root), [first], "the ERP's records of the customer")

    def test_a_customer_whose_details_changed_is_updated_not_duplicated(
        self, adapter: ErpPort, order_plan: OrderPlan, erp_records: ErpRecords
    ) -> None:
        root, entity = order_plan.hierarchy[0], order_plan.entity
        renamed = root.model_copy(update={"name": f"{root.name} (renamed)"})

        async def rename() -> tuple[ExternalRef, ExternalRef]:
            first = await adapter.upsert_customer(root, None, entity)
            return first, await adapter.upsert_customer(renamed, None, entity)

        first, second = run(rename, adapter)

        assert first == second, f"a renamed customer became a second customer: {first}, {second}"
        expect(erp_records.customers_for(renamed), [first], "the ERP's records of the customer")

    def test_a_child_customer_is_kept_under_its_parent(
        self, adapter: ErpPort, order_plan: OrderPlan, erp_records: ErpRecords
    ) -> None:
        assert len(order_plan.hierarchy) >= 2, "order_plan needs a parent and a child customer"

        async def twice() -> tuple[list[ExternalRef], list[ExternalRef]]:
            return await book_customers(adapter, order_plan), await book_customers(
                adapter, order_plan
            )

        first, second = run(twice, adapter)

        expect(second, first, "the hierarchy's refs when it is booked again")
        assert len(set(first)) == len(first), f"two customers of the hierarchy share a ref: {first}"
        expect(erp_records.parent_of(first[0]), None, "the root's parent")
        for parent, child in pairwise(first):
            expect(erp_records.parent_of(child), parent, f"the parent of {child}")

    def test_submitting_an_order_twice_books_one_order(
        self,
        adapter: ErpPort,
        order_plan: OrderPlan,
        order_tax: TaxQuote | None,
        erp_records: ErpRecords,
    ) -> None:
        async def twice() -> tuple[ExternalRef, ExternalRef]:
            customer = (await book_customers(adapter, order_plan))[-1]
            first = await adapter.submit_sales_order(order_plan, customer, order_tax)
            return first, await adapter.submit_sales_order(order_plan, customer, order_tax)

        first, second = run(twice, adapter)

        assert first == second, f"the same order submitted twice got two refs: {first}, {second}"
        expect(first.system, adapter.system, "the ref's system")
        expect(erp_records.orders_for(order_plan.order), [first], "the ERP's orders of the order")

    def test_a_submitted_order_is_accepted(
        self, adapter: ErpPort, order_plan: OrderPlan, order_tax: TaxQuote | None
    ) -> None:
        async def submit() -> tuple[ErpOrderState, ErpOrderState]:
            customer = (await book_customers(adapter, order_plan))[-1]
            order = await adapter.submit_sales_order(order_plan, customer, order_tax)
            state = await adapter.get_order_state(order)
            settled = await eventually(
                lambda: adapter.get_order_state(order), lambda s: s is ErpOrderState.ACCEPTED
            )
            return state, settled

        state, settled = run(submit, adapter)

        assert state in SUBMITTED, f"a submitted order reads {state}"
        expect(settled, ErpOrderState.ACCEPTED, "the order's state once the ERP decided")

    def test_closing_an_order_twice_leaves_it_closed(
        self, adapter: ErpPort, order_plan: OrderPlan, order_tax: TaxQuote | None
    ) -> None:
        async def close_twice() -> tuple[ErpOrderState, ErpOrderState]:
            customer = (await book_customers(adapter, order_plan))[-1]
            order = await adapter.submit_sales_order(order_plan, customer, order_tax)
            await adapter.close_sales_order(order)
            once = await adapter.get_order_state(order)
            await adapter.close_sales_order(order)
            return once, await adapter.get_order_state(order)

        expect(
            run(close_twice, adapter),
            (ErpOrderState.CLOSED, ErpOrderState.CLOSED),
            "the order's state after closing it once, then twice",
        )

    def test_an_invoice_and_its_payment_posted_twice_are_one_each(
        self,
        adapter: ErpPort,
        order_plan: OrderPlan,
        order_tax: TaxQuote | None,
        erp_records: ErpRecords,
    ) -> None:
        """The sales order billed once for a billing invoice, however often it is posted;
        one payment applied to it, however often it is recorded."""
        billed = billed_in_full(order_plan, f"in_{order_plan.order.order_id}", order_tax)
        document = erp_invoice(order_plan, billed, invoice_tax(order_plan, order_tax))
        payment = ErpPayment(
            external_id=f"inpay_{order_plan.order.order_id}",
            amount=billed.total,
            received_on=document.issued_on,
            memo="contract suite",
        )

        async def twice() -> tuple[PostedErpInvoice, PostedErpInvoice, ExternalRef, ExternalRef]:
            customer = (await book_customers(adapter, order_plan))[-1]
            order = await adapter.submit_sales_order(order_plan, customer, order_tax)
            await eventually(
                lambda: adapter.get_order_state(order), lambda s: s is ErpOrderState.ACCEPTED
            )
            first = await adapter.post_invoice(order, document)
            again = await adapter.post_invoice(order, document)
            paid = await adapter.record_payment(first.ref, payment)
            return first, again, paid, await adapter.record_payment(first.ref, payment)

        first, again, paid, paid_again = run(twice, adapter)

        expect(again, first, "the invoice posted again")
        expect(first.total, billed.total, "the ERP invoice's total")
        expect(erp_records.invoices_for(billed.ref.id), [first.ref], "the ERP's invoices")
        expect(paid_again, paid, "the payment recorded again")
        expect(erp_records.payments_for(payment.external_id), [paid], "the ERP's payments")

    def test_an_unknown_order_is_not_found(
        self, adapter: ErpPort, unknown_order: ExternalRef
    ) -> None:
        with pytest.raises(NotFoundError):
            run(lambda: adapter.get_order_state(unknown_order), adapter)

    def test_data_the_erp_refuses_is_a_data_or_conflict_error(
        self, adapter: ErpPort, refused_order: OrderPlan
    ) -> None:
        async def book() -> ExternalRef:
            customer = (await book_customers(adapter, refused_order))[-1]
            return await adapter.submit_sales_order(refused_order, customer, None)

        with pytest.raises((DataError, ConflictError)) as caught:
            run(book, adapter)
        expect(caught.value.system, adapter.system, "the system the error names")


async def book_customers(adapter: ErpPort, plan: OrderPlan) -> list[ExternalRef]:
    """Upsert the plan's hierarchy root first, each under the one before; their refs."""
    refs: list[ExternalRef] = []
    for customer in plan.hierarchy:
        parent = refs[-1] if refs else None
        refs.append(await adapter.upsert_customer(customer, parent, plan.entity))
    return refs
