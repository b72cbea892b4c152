"""What every billing adapter promises, stated as tests: ``BillingPortContract``.

Subclass it in a ``Test…`` class and provide the fixtures it lists (see
``docs/writing-a-connector.md``).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

import pytest

from revbridge.canonical import Customer, ExternalRef, Order
from revbridge.errors import NotFoundError
from revbridge.ports import BillingPort, OrderPlan
from revbridge.testing.contracts.harness import expect, required, run

#: Line kinds billed by a subscription, and those billed once as invoice items.
RECURRING = frozenset({"subscription", "usage"})
ONE_TIME = frozenset({"service"})


class BillingRecords(Protocol):
    """What the billing system holds, read from its sandbox directly (never the adapter)."""

    def customers_for(self, customer: Customer) -> list[ExternalRef]:
        """The billing customers standing for ``customer``: by its id or by its name."""
        ...

    def subscriptions_for(self, order: Order) -> list[ExternalRef]:
        """The subscriptions started for ``order``."""
        ...

    def invoice_items_for(self, order: Order) -> list[ExternalRef]:
        """The invoice items added for ``order``."""
        ...

    def is_active(self, subscription: ExternalRef) -> bool:
        """Whether the subscription still bills (not cancelled or ended)."""
        ...


class BillingPortContract:
    """The billing port: each customer, subscription and charge exists once.

    Fixtures to provide: ``adapter`` (the ``BillingPort`` on its sandbox, over HTTP),
    ``order_plan`` (an :class:`OrderPlan` with recurring and one-time lines whose prices
    the billing system holds), ``unknown_subscription`` (a well-formed id of no
    subscription) and ``billing_records`` (:class:`BillingRecords`).
    """

    @pytest.fixture
    def adapter(self) -> BillingPort:
        required("BillingPortContract", "adapter", "the BillingPort wired to its sandbox")

    @pytest.fixture
    def order_plan(self) -> OrderPlan:
        required("BillingPortContract", "order_plan", "a plan with recurring and one-time lines")

    @pytest.fixture
    def unknown_subscription(self) -> ExternalRef:
        required("BillingPortContract", "unknown_subscription", "an id no subscription has")

    @pytest.fixture
    def billing_records(self) -> BillingRecords:
        required("BillingPortContract", "billing_records", "BillingRecords from the sandbox")

    def test_ensuring_a_customer_twice_keeps_one_customer(
        self, adapter: BillingPort, order_plan: OrderPlan, billing_records: BillingRecords
    ) -> None:
        customer, entity = order_plan.order.customer, order_plan.entity

        async def twice() -> tuple[ExternalRef, ExternalRef]:
            first = await adapter.ensure_customer(customer, entity)
            return first, await adapter.ensure_customer(customer, entity)

        first, second = run(twice, adapter)

        assert first == second, f"the same customer ensured twice got two refs: {first}, {second}"
        expect(first.system, adapter.system, "the ref's system")
        expect(billing_records.customers_for(customer), [first], "the billing customers")

    def test_a_customer_whose_details_changed_is_updated_not_duplicated(
        self, adapter: BillingPort, order_plan: OrderPlan, billing_records: BillingRecords
    ) -> None:
        customer, entity = order_plan.order.customer, order_plan.entity
        renamed = customer.model_copy(update={"name": f"{customer.name} (renamed)"})

        async def rename() -> tuple[ExternalRef, ExternalRef]:
            first = await adapter.ensure_customer(customer, entity)
            return first, await adapter.ensure_customer(renamed, entity)

        first, second = run(rename, adapter)

        assert first == second, f"a renamed customer became a second customer: {first}, {second}"
        expect(billing_records.customers_for(renamed), [first], "the billing customers")

    def test_starting_the_subscription_twice_starts_one(
        self, adapter: BillingPort, order_plan: OrderPlan, billing_records: BillingRecords
    ) -> None:
        async def twice() -> tuple[ExternalRef | None, ExternalRef | None]:
            customer = await adapter.ensure_customer(order_plan.order.customer, order_plan.entity)
            first = await adapter.start_subscription(order_plan, customer)
            return first, await adapter.start_subscription(order_plan, customer)

        first, second = run(twice, adapter)

        assert first is not None, "an order with recurring lines started no subscription"
        assert first == second, f"one order's subscription started twice: {first}, {second}"
        expect(billing_records.subscriptions_for(order_plan.order), [first], "the subscriptions")
        assert billing_records.is_active(first), f"subscription {first} does not bill"

    def test_an_order_without_recurring_lines_starts_no_subscription(
        self, adapter: BillingPort, order_plan: OrderPlan, billing_records: BillingRecords
    ) -> None:
        one_time = only(order_plan, ONE_TIME)

        async def start() -> ExternalRef | None:
            customer = await adapter.ensure_customer(one_time.order.customer, one_time.entity)
            return await adapter.start_subscription(one_time, customer)

        expect(run(start, adapter), None, "the subscription of an order of one-time lines")
        expect(billing_records.subscriptions_for(one_time.order), [], "the subscriptions")

    def test_one_time_charges_are_added_once(
        self, adapter: BillingPort, order_plan: OrderPlan, billing_records: BillingRecords
    ) -> None:
        charges = len(only(order_plan, ONE_TIME).order.lines)

        async def twice() -> tuple[tuple[ExternalRef, ...], tuple[ExternalRef, ...]]:
            customer = await adapter.ensure_customer(order_plan.order.customer, order_plan.entity)
            first = await adapter.add_invoice_items(order_plan, customer)
            return first, await adapter.add_invoice_items(order_plan, customer)

        first, second = run(twice, adapter)

        assert len(first) == charges, f"{len(first)} invoice items for {charges} one-time lines"
        assert first == second, f"adding the charges again made new items: {first}, {second}"
        expect(
            sorted(billing_records.invoice_items_for(order_plan.order), key=str),
            sorted(first, key=str),
            "the invoice items of the order",
        )

    def test_an_order_without_one_time_lines_adds_no_charges(
        self, adapter: BillingPort, order_plan: OrderPlan
    ) -> None:
        recurring = only(order_plan, RECURRING)

        async def add() -> tuple[ExternalRef, ...]:
            customer = await adapter.ensure_customer(recurring.order.customer, recurring.entity)
            return await adapter.add_invoice_items(recurring, customer)

        expect(run(add, adapter), (), "the invoice items of an order of recurring lines")

    def test_cancelling_a_subscription_twice_leaves_it_cancelled(
        self, adapter: BillingPort, order_plan: OrderPlan, billing_records: BillingRecords
    ) -> None:
        async def cancel_twice() -> ExternalRef | None:
            customer = await adapter.ensure_customer(order_plan.order.customer, order_plan.entity)
            subscription = await adapter.start_subscription(order_plan, customer)
            if subscription is not None:
                await adapter.cancel_subscription(subscription)
                await adapter.cancel_subscription(subscription)
            return subscription

        subscription = run(cancel_twice, adapter)

        assert subscription is not None, "an order with recurring lines started no subscription"
        assert not billing_records.is_active(subscription), f"{subscription} still bills"

    def test_cancelling_an_unknown_subscription_is_not_found(
        self, adapter: BillingPort, unknown_subscription: ExternalRef
    ) -> None:
        with pytest.raises(NotFoundError):
            run(lambda: adapter.cancel_subscription(unknown_subscription), adapter)


def only(plan: OrderPlan, kinds: Collection[str]) -> OrderPlan:
    """The plan with only the lines whose product is of one of ``kinds``."""
    lines = tuple(line for line in plan.order.lines if plan.lines[line.line_id].kind in kinds)
    assert lines, f"order_plan needs a line of kind {' or '.join(sorted(kinds))}"
    mappings = {line.line_id: plan.lines[line.line_id] for line in lines}
    order = plan.order.model_copy(update={"lines": lines})
    return plan.model_copy(update={"order": order, "lines": mappings})
