"""What every CRM adapter and CRM change feed promises, stated as tests.

``CrmPortContract`` reads deals and writes statuses back; ``ChangeFeedPortContract``
reads the CRM's closed-won changes after a stored position. Subclass them in a
``Test…`` class and provide the fixtures each one lists (see
``docs/writing-a-connector.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Protocol

import pytest

from revbridge.canonical import ExternalRef, InvoiceStatus, Money
from revbridge.errors import NotFoundError
from revbridge.ports import (
    ChangeFeedPort,
    ClosedWonChange,
    CrmPort,
    DealPackage,
    DealStatus,
    InvoiceView,
)
from revbridge.testing.contracts.harness import expect, required, run

#: Safety stop for reading a feed to its end: no suite's sandbox holds this many pages.
MAX_PAGES = 1000


@dataclass(frozen=True)
class SeededDeal:
    """A won deal the fixture created in the CRM, and what reading it must give back."""

    deal: ExternalRef
    currency: str
    lines: tuple[tuple[str, Decimal], ...]  # (sku, quantity), in any order
    start: date  # the contract's first day
    end: date  # the contract's last day
    hierarchy: tuple[str, ...]  # account names, the root first, the deal's own account last


class CrmRecords(Protocol):
    """What the CRM holds, read from its sandbox directly (never through the adapter)."""

    def deal_status(self, deal: ExternalRef) -> str | None:
        """The integration status written on the deal, None when there is none."""
        ...

    def invoices_shown(self, deal: ExternalRef) -> list[tuple[str, str]]:
        """(billing invoice id, status shown) of each invoice shown on the deal."""
        ...

    def stamp(self, deal: ExternalRef) -> str | None:
        """What the deal shows of why it is held, None when nothing."""
        ...


class CrmPortContract:
    """The CRM port: a won deal reads as its order package; statuses write back once.

    Fixtures to provide: ``adapter`` (the ``CrmPort`` on its sandbox, over HTTP),
    ``closed_won_deal`` (a :class:`SeededDeal`), ``open_deal`` (a deal not yet won),
    ``unknown_deal`` (a well-formed id of no deal) and ``crm_records``
    (:class:`CrmRecords`).
    """

    @pytest.fixture
    def adapter(self) -> CrmPort:
        required("CrmPortContract", "adapter", "the CrmPort wired to its sandbox")

    @pytest.fixture
    def closed_won_deal(self) -> SeededDeal:
        required("CrmPortContract", "closed_won_deal", "a won deal seeded in the sandbox")

    @pytest.fixture
    def open_deal(self) -> ExternalRef:
        required("CrmPortContract", "open_deal", "a deal seeded in the sandbox, not yet won")

    @pytest.fixture
    def unknown_deal(self) -> ExternalRef:
        required("CrmPortContract", "unknown_deal", "a well-formed id no deal has")

    @pytest.fixture
    def crm_records(self) -> CrmRecords:
        required("CrmPortContract", "crm_records", "CrmRecords read from the sandbox")

    def test_a_won_deal_reads_as_its_order_package(
        self, adapter: CrmPort, closed_won_deal: SeededDeal
    ) -> None:
        package = run(lambda: adapter.fetch_deal(closed_won_deal.deal), adapter)

        order = package.order
        assert package.is_won, f"deal {closed_won_deal.deal} was won; the package says not"
        expect(order.source, closed_won_deal.deal, "the order's source")
        expect(order.currency, closed_won_deal.currency, "the order's currency")
        expect(
            sorted((line.sku, line.quantity) for line in order.lines),
            sorted(closed_won_deal.lines),
            "the order's products and quantities",
        )
        assert order.contract is not None, "the order has no contract term"
        expect(
            (order.contract.start_date, order.contract.end_date),
            (closed_won_deal.start, closed_won_deal.end),
            "the contract's first and last day",
        )

    def test_deal_amounts_are_exact_money_in_the_deal_currency(
        self, adapter: CrmPort, closed_won_deal: SeededDeal
    ) -> None:
        order = run(lambda: adapter.fetch_deal(closed_won_deal.deal), adapter).order

        for line in order.lines:
            for money in (line.unit_price, line.amount):
                assert type(money.amount) is Decimal, f"line {line.line_id}: {money!r}"
                expect(money.currency, closed_won_deal.currency, f"line {line.line_id} currency")
        expect(order.total.currency, closed_won_deal.currency, "the order total's currency")

    def test_the_customer_hierarchy_reads_parents_first(
        self, adapter: CrmPort, closed_won_deal: SeededDeal
    ) -> None:
        package = run(lambda: adapter.fetch_deal(closed_won_deal.deal), adapter)

        names = tuple(customer.name for customer in package.hierarchy)
        expect(names, closed_won_deal.hierarchy, "the hierarchy, root first")
        expect(package.hierarchy[0].parent_id, None, "the root's parent")
        for parent, child in pairwise(package.hierarchy):
            expect(child.parent_id, parent.customer_id, f"the parent of {child.name}")
        assert package.order.customer == package.hierarchy[-1], "the deal's customer is not last"

    def test_a_deal_not_yet_won_reads_as_not_won(
        self, adapter: CrmPort, open_deal: ExternalRef
    ) -> None:
        package = run(lambda: adapter.fetch_deal(open_deal), adapter)

        assert not package.is_won, f"deal {open_deal} is still open; the package says won"
        expect(package.order.source, open_deal, "the order's source")

    def test_reading_a_deal_twice_gives_the_same_package(
        self, adapter: CrmPort, closed_won_deal: SeededDeal
    ) -> None:
        async def twice() -> tuple[DealPackage, DealPackage]:
            deal = closed_won_deal.deal
            return await adapter.fetch_deal(deal), await adapter.fetch_deal(deal)

        first, second = run(twice, adapter)

        assert first == second, "an unchanged deal read twice gives two different packages"

    def test_an_unknown_deal_is_not_found(
        self, adapter: CrmPort, unknown_deal: ExternalRef
    ) -> None:
        with pytest.raises(NotFoundError):
            run(lambda: adapter.fetch_deal(unknown_deal), adapter)

    def test_writing_back_a_status_twice_leaves_one_status(
        self, adapter: CrmPort, closed_won_deal: SeededDeal, crm_records: CrmRecords
    ) -> None:
        deal = closed_won_deal.deal
        status = _booked(deal)

        async def twice() -> tuple[DealPackage, DealPackage]:
            before = await adapter.fetch_deal(deal)
            await adapter.write_back(deal, status)
            await adapter.write_back(deal, status)
            return before, await adapter.fetch_deal(deal)

        before, after = run(twice, adapter)

        expect(crm_records.deal_status(deal), status.status, "the status on the deal")
        assert after.is_won, "writing back a status unmade the win"
        expect(after.order.lines, before.order.lines, "the lines after writing back")
        expect(after.order.contract, before.order.contract, "the contract after writing back")

    def test_an_invoice_shown_twice_is_one_record_with_the_later_status(
        self, adapter: CrmPort, closed_won_deal: SeededDeal, crm_records: CrmRecords
    ) -> None:
        deal = closed_won_deal.deal
        posted = _invoice_view(deal, InvoiceStatus.POSTED)
        paid = posted.model_copy(
            update={
                "status": InvoiceStatus.PAID,
                "amount_paid": posted.total,
                "amount_remaining": Money.zero(posted.total.currency),
                "paid_on": date(2027, 1, 20),
            }
        )

        async def in_turn() -> None:
            await adapter.show_invoice(deal, posted)
            await adapter.show_invoice(deal, posted)
            await adapter.show_invoice(deal, paid)

        run(in_turn, adapter)

        expect(crm_records.invoices_shown(deal), [(posted.invoice.id, "Paid")], "invoices shown")

    def test_a_stamp_shows_then_clears(
        self, adapter: CrmPort, closed_won_deal: SeededDeal, crm_records: CrmRecords
    ) -> None:
        deal = closed_won_deal.deal
        text = "Exception \N{EM DASH} payment declined (finance_ops)"

        async def stamped() -> str | None:
            await adapter.stamp_exception(deal, text)
            shown = crm_records.stamp(deal)
            await adapter.stamp_exception(deal, None)
            return shown

        expect(run(stamped, adapter), text, "the stamp while a case is open")
        expect(crm_records.stamp(deal), None, "the stamp once cleared")

    def test_a_later_status_replaces_the_earlier_one(
        self, adapter: CrmPort, closed_won_deal: SeededDeal, crm_records: CrmRecords
    ) -> None:
        deal = closed_won_deal.deal
        booked = _booked(deal)
        invoiced = booked.model_copy(update={"status": "invoiced"})

        async def in_turn() -> None:
            await adapter.write_back(deal, booked)
            await adapter.write_back(deal, invoiced)

        run(in_turn, adapter)

        expect(crm_records.deal_status(deal), "invoiced", "the status on the deal")

    def test_writing_back_to_an_unknown_deal_is_not_found(
        self, adapter: CrmPort, unknown_deal: ExternalRef
    ) -> None:
        status = DealStatus(status="failed", correlation_id=f"contract-{unknown_deal.id}")

        with pytest.raises(NotFoundError):
            run(lambda: adapter.write_back(unknown_deal, status), adapter)


class ChangeFeedPortContract:
    """The CRM change feed: each won deal once, after the position stored before it.

    Fixtures to provide: ``feed`` (the ``ChangeFeedPort`` on its sandbox), ``crm`` (the
    ``CrmPort`` of the same CRM, for writing statuses back), ``win_deal`` (a callable
    that seeds a new deal, moves it to won and returns its ref) and ``open_deal``.
    """

    @pytest.fixture
    def feed(self) -> ChangeFeedPort:
        required("ChangeFeedPortContract", "feed", "the ChangeFeedPort wired to its sandbox")

    @pytest.fixture
    def crm(self) -> CrmPort:
        required("ChangeFeedPortContract", "crm", "the CrmPort of the same CRM")

    @pytest.fixture
    def win_deal(self) -> Callable[[], ExternalRef]:
        required("ChangeFeedPortContract", "win_deal", "a callable that wins a new deal")

    @pytest.fixture
    def open_deal(self) -> ExternalRef:
        required("ChangeFeedPortContract", "open_deal", "a deal seeded, not yet won")

    def test_a_won_deal_appears_once_after_the_position_stored_before(
        self, feed: ChangeFeedPort, crm: CrmPort, win_deal: Callable[[], ExternalRef]
    ) -> None:
        _, start = run(lambda: read_to_end(feed, None), feed, crm)
        deal = win_deal()

        changes, _ = run(lambda: read_to_end(feed, start), feed, crm)

        mine = [change for change in changes if change.deal == deal]
        assert len(mine) == 1, f"deal {deal} won once appears {len(mine)} times"
        assert mine[0].event_id, "a change has no event id"
        assert mine[0].version, "a change has no version"

    def test_reading_from_the_returned_position_repeats_nothing(
        self, feed: ChangeFeedPort, crm: CrmPort, win_deal: Callable[[], ExternalRef]
    ) -> None:
        _, start = run(lambda: read_to_end(feed, None), feed, crm)
        deal = win_deal()

        async def twice() -> tuple[list[ClosedWonChange], list[ClosedWonChange]]:
            first, end = await read_to_end(feed, start)
            again, _ = await read_to_end(feed, end)
            return first, again

        first, again = run(twice, feed, crm)

        assert deal in {change.deal for change in first}, f"deal {deal} won is not in the feed"
        assert deal not in {change.deal for change in again}, "a change was read twice"

    def test_replaying_from_the_start_gives_the_same_events_and_versions(
        self, feed: ChangeFeedPort, crm: CrmPort, win_deal: Callable[[], ExternalRef]
    ) -> None:
        win_deal()

        async def twice() -> tuple[list[ClosedWonChange], list[ClosedWonChange]]:
            first, _ = await read_to_end(feed, None)
            second, _ = await read_to_end(feed, None)
            return first, second

        first, second = run(twice, feed, crm)

        expect(
            [(c.event_id, c.deal, c.version) for c in second],
            [(c.event_id, c.deal, c.version) for c in first],
            "the changes of a replay (different names would be counted twice by the inbox)",
        )

    def test_small_pages_read_the_same_changes_as_one_large_read(
        self, feed: ChangeFeedPort, crm: CrmPort, win_deal: Callable[[], ExternalRef]
    ) -> None:
        _, start = run(lambda: read_to_end(feed, None), feed, crm)
        deals = {win_deal(), win_deal()}

        async def both() -> tuple[list[ClosedWonChange], list[ClosedWonChange]]:
            large, _ = await read_to_end(feed, start, limit=100)
            small, _ = await read_to_end(feed, start, limit=1)
            return large, small

        large, small = run(both, feed, crm)

        assert {change.deal for change in large} >= deals, f"deals {deals} won are not in the feed"
        expect(
            [(c.event_id, c.version) for c in small],
            [(c.event_id, c.version) for c in large],
            "the changes read one at a time",
        )

    def test_a_deal_not_yet_won_is_not_in_the_feed(
        self, feed: ChangeFeedPort, crm: CrmPort, open_deal: ExternalRef
    ) -> None:
        changes, _ = run(lambda: read_to_end(feed, None), feed, crm)

        assert open_deal not in {change.deal for change in changes}, f"open {open_deal} in the feed"

    def test_writing_back_a_status_is_not_a_new_win(
        self, feed: ChangeFeedPort, crm: CrmPort, win_deal: Callable[[], ExternalRef]
    ) -> None:
        deal = win_deal()
        _, start = run(lambda: read_to_end(feed, None), feed, crm)

        async def write_then_read() -> list[ClosedWonChange]:
            await crm.write_back(deal, _booked(deal))
            changes, _ = await read_to_end(feed, start)
            return changes

        changes = run(write_then_read, feed, crm)

        assert deal not in {change.deal for change in changes}, "write-back re-announced the win"


async def read_to_end(
    feed: ChangeFeedPort, after: int | None, limit: int = 100
) -> tuple[list[ClosedWonChange], int | None]:
    """Every change after ``after``, page by page, and the position reached."""
    changes: list[ClosedWonChange] = []
    position = after
    for _ in range(MAX_PAGES):
        page, reached = await feed.read_changes(position, limit)
        changes += page
        if reached == position:
            return changes, position
        position = reached
    raise AssertionError(f"the feed still advances after {MAX_PAGES} pages")


def _invoice_view(deal: ExternalRef, status: InvoiceStatus) -> InvoiceView:
    total = Money.of("1200.00", "GBP")
    return InvoiceView(
        invoice=ExternalRef(system="billing", id=f"in_{deal.id}"),
        number=f"INV-{deal.id[-6:]}",
        status=status,
        total=total,
        tax=Money.of("200.00", "GBP"),
        amount_paid=Money.zero("GBP"),
        amount_remaining=total,
        due_date=date(2027, 1, 31),
        issued_on=date(2027, 1, 1),
    )


def _booked(deal: ExternalRef) -> DealStatus:
    return DealStatus(
        status="booked",
        correlation_id=f"contract-{deal.id}",
        erp_order=ExternalRef(system="erp", id="SO-1001"),
        erp_customer=ExternalRef(system="erp", id="C-1001"),
        billing_customer=ExternalRef(system="billing", id="cus_1001"),
    )
