"""Every adapter through its port's contract suite, against its sandbox over real HTTP.

The four sandboxes run as one local estate on free ports and the adapters are built from
the example policy pointed at it, as ``revbridge serve`` builds them. Each test seeds its
own deal, customers and order under fresh ids, so the tests share the estate and never a
record. The last section runs deliberately broken adapters through the same contract
tests and expects them to fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from revbridge.canonical import (
    BillingFrequency,
    Contract,
    Customer,
    ExternalRef,
    Money,
    Order,
    OrderLine,
    ProductKind,
)
from revbridge.cli.sandbox import catalog_from_policy
from revbridge.config.load import load_policy
from revbridge.config.policy import Policy
from revbridge.connectors.avalara import AvalaraTax
from revbridge.connectors.avalara.mapping import document_code
from revbridge.connectors.netsuite import NetSuiteErp
from revbridge.connectors.registry import build_adapter
from revbridge.connectors.salesforce import SalesforceCrm
from revbridge.connectors.stripe import StripeBilling
from revbridge.connectors.stripe.client import StripeClient
from revbridge.connectors.stripe.mapping import CUSTOMER_ID_KEY, ORDER_ID_KEY
from revbridge.errors import DataError
from revbridge.ports import CrmPort, DealPackage, OrderPlan, TaxQuote
from revbridge.rules import readiness
from revbridge.testing.contracts import (
    BillingPortContract,
    ChangeFeedPortContract,
    CrmPortContract,
    ErpPortContract,
    SeededDeal,
    TaxPortContract,
)
from revbridge.testing.estate import SANDBOX_ENV, LocalEstate, local_estate
from revbridge.testing.factories import CORRELATION_ID, parent_customer, uk_child_customer
from revbridge_sandboxes.seed import PriceBook, create_deal, prepare_catalog

START, END = date(2026, 1, 1), date(2026, 12, 31)
#: The deal's products and quantities, all mapped by the example policy.
DEAL_LINES = (("SUB-PLATFORM-ANNUAL", 1), ("SVC-IMPLEMENTATION", 1), ("USG-API-CALLS", 100))
UK_VAT = Decimal("0.20")


# -- the estate -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def estate() -> Iterator[LocalEstate]:
    with local_estate() as running:
        yield running


@pytest.fixture(scope="module")
def policy(estate: LocalEstate, tmp_path_factory: pytest.TempPathFactory) -> Policy:
    path = tmp_path_factory.mktemp("policy") / "revbridge.yaml"
    return load_policy(estate.write_policy(path))


@pytest.fixture(scope="module")
def book(estate: LocalEstate, policy: Policy) -> Iterator[PriceBook]:
    """The policy's price book in Salesforce and its prices in Stripe."""
    prices = prepare_catalog(estate.endpoints(), catalog_from_policy(policy))
    yield prices
    prices.seeder.http.close()


@pytest.fixture
def tag() -> str:
    """This test's suffix for ids and names: no record is shared between tests."""
    return uuid.uuid4().hex[:10]


def seed_deal(book: PriceBook, tag: str, *, won: bool) -> SeededDeal:
    """A UK account under its US group with a three-line GBP deal, won or still open."""
    group, uk = f"Northwind Group {tag}", f"Northwind UK {tag}"
    deal = create_deal(
        book,
        account={"Name": uk, "BillingStreet": "10 Fleet Street", "BillingCity": "London",
                 "BillingPostalCode": "EC4Y 1AA", "BillingCountryCode": "GB",
                 "CurrencyIsoCode": "GBP"},
        parent={"Name": group, "BillingStreet": "350 5th Ave", "BillingCity": "New York",
                "BillingStateCode": "NY", "BillingPostalCode": "10001",
                "BillingCountryCode": "US"},
        lines=list(DEAL_LINES), currency="GBP", start=START, end=END,
    )  # fmt: skip
    if won:
        book.seeder.update("Opportunity", deal, {"StageName": "Closed Won"})
    return SeededDeal(
        deal=ExternalRef(system="salesforce", id=deal),
        currency="GBP",
        lines=tuple((sku, Decimal(quantity)) for sku, quantity in DEAL_LINES),
        start=START,
        end=END,
        hierarchy=(group, uk),
    )


def uk_plan(policy: Policy, tag: str) -> OrderPlan:
    """A won UK deal as the readiness rules plan it: a subsidiary under its group buying the
    platform, implementation and API calls at the policy's GBP prices."""
    parent = parent_customer().model_copy(
        update={"customer_id": f"cus_group_{tag}", "name": f"Northwind Holdings {tag}"}
    )
    child = uk_child_customer().model_copy(
        update={"customer_id": f"cus_uk_{tag}", "parent_id": parent.customer_id,
                "name": f"Northwind Trading {tag}"}
    )  # fmt: skip

    def line(line_id: str, sku: str, kind: ProductKind, quantity: int) -> OrderLine:
        price = Money.of(policy.products[sku].billing.prices["GBP"], "GBP")
        return OrderLine.priced(line_id=line_id, sku=sku, kind=kind, quantity=quantity,
                                unit_price=price, service_start=START, service_end=END)  # fmt: skip

    order = Order(
        order_id=f"ord_{tag}",
        source=ExternalRef(system="salesforce", id=f"006{tag}"),
        customer=child,
        currency="GBP",
        lines=(
            line("1", "SUB-PLATFORM-ANNUAL", ProductKind.SUBSCRIPTION, 1),
            line("2", "SVC-IMPLEMENTATION", ProductKind.SERVICE, 1),
            line("3", "USG-API-CALLS", ProductKind.USAGE, 100),
        ),
        contract=Contract(start_date=START, end_date=END, term_months=12,
                          billing_frequency=BillingFrequency.ANNUAL),
        correlation_id=CORRELATION_ID,
    )  # fmt: skip
    planned = readiness.plan(order, (parent, child), policy)
    assert isinstance(planned, OrderPlan), planned
    return planned


def vat_quote(plan: OrderPlan) -> TaxQuote:
    """UK VAT on every line, as the tax engine would quote it."""
    line_tax = {
        line.line_id: (line.amount * UK_VAT).quantize(rounding=ROUND_HALF_UP)
        for line in plan.order.lines
    }
    return TaxQuote(
        document=ExternalRef(system="avalara", id=document_code(plan.order.order_id)),
        total_tax=Money.total(line_tax.values(), plan.order.currency),
        line_tax=line_tax,
    )


# -- what each sandbox holds, read directly -------------------------------------------------------


@dataclass
class SalesforceRecords:
    estate: LocalEstate

    def deal_status(self, deal: ExternalRef) -> str | None:
        status = self._opportunity(deal).get("Integration_Status__c")
        return None if status is None else str(status)

    def invoices_shown(self, deal: ExternalRef) -> list[tuple[str, str]]:
        records = self.estate.state("salesforce")["records"].get("Billing_Invoice__c") or []
        return [
            (str(r["Billing_Invoice_Id__c"]), str(r["Status__c"]))
            for r in records
            if r.get("Opportunity__c") == deal.id
        ]

    def stamp(self, deal: ExternalRef) -> str | None:
        stamp = self._opportunity(deal).get("Integration_Exception__c")
        return None if stamp is None else str(stamp)

    def _opportunity(self, deal: ExternalRef) -> dict[str, Any]:
        for record in self.estate.state("salesforce")["records"]["Opportunity"]:
            if record["Id"] == deal.id:
                return dict(record)
        return {}


@dataclass
class NetSuiteRecords:
    estate: LocalEstate

    def _records(self, record_type: str) -> list[dict[str, Any]]:
        return list(self.estate.state("netsuite")["records"][record_type].values())

    def customers_for(self, customer: Customer) -> list[ExternalRef]:
        return [
            ExternalRef(system="netsuite", id=str(r["id"]))
            for r in self._records("customer")
            if r.get("externalId") == customer.customer_id or r.get("companyName") == customer.name
        ]

    def parent_of(self, customer: ExternalRef) -> ExternalRef | None:
        [record] = [r for r in self._records("customer") if str(r["id"]) == customer.id]
        parent = record.get("parent")
        return ExternalRef(system="netsuite", id=str(parent["id"])) if parent else None

    def orders_for(self, order: Order) -> list[ExternalRef]:
        return [
            ExternalRef(system="netsuite", id=str(r["id"]))
            for r in self._records("salesOrder")
            if r.get("externalId") == order.order_id or r.get("otherRefNum") == order.source.id
        ]

    def invoices_for(self, external_id: str) -> list[ExternalRef]:
        return self._by_external_id("invoice", external_id)

    def payments_for(self, external_id: str) -> list[ExternalRef]:
        return self._by_external_id("customerPayment", external_id)

    def _by_external_id(self, record_type: str, external_id: str) -> list[ExternalRef]:
        return [
            ExternalRef(system="netsuite", id=str(r["id"]))
            for r in self.estate.state("netsuite")["records"].get(record_type, {}).values()
            if r.get("externalId") == external_id
        ]


@dataclass
class StripeRecords:
    estate: LocalEstate

    def _refs(self, table: str, key: str, value: str) -> list[ExternalRef]:
        rows = self.estate.state("stripe")[table]
        return [
            ExternalRef(system="stripe", id=r["id"])
            for r in rows
            if r["metadata"].get(key) == value
        ]

    def customers_for(self, customer: Customer) -> list[ExternalRef]:
        return [
            ExternalRef(system="stripe", id=r["id"])
            for r in self.estate.state("stripe")["customers"]
            if r["metadata"].get(CUSTOMER_ID_KEY) == customer.customer_id
            or r.get("name") == customer.name
        ]

    def subscriptions_for(self, order: Order) -> list[ExternalRef]:
        return self._refs("subscriptions", ORDER_ID_KEY, order.order_id)

    def invoice_items_for(self, order: Order) -> list[ExternalRef]:
        return self._refs("invoiceitems", ORDER_ID_KEY, order.order_id)

    def is_active(self, subscription: ExternalRef) -> bool:
        rows = self.estate.state("stripe")["subscriptions"]
        [record] = [r for r in rows if r["id"] == subscription.id]
        return record["status"] not in ("canceled", "incomplete_expired")


@dataclass
class AvalaraRecords:
    estate: LocalEstate

    def _transactions(self) -> list[dict[str, Any]]:
        return list(self.estate.state("avalara")["transactions"])

    def documents_for(self, order: Order) -> list[ExternalRef]:
        return [
            ExternalRef(system="avalara", id=t["code"])
            for t in self._transactions()
            if t["code"] == document_code(order.order_id)
            or t.get("referenceCode") == str(order.source)
        ]

    def is_voided(self, document: ExternalRef) -> bool:
        [transaction] = [t for t in self._transactions() if t["code"] == document.id]
        return bool(transaction["status"] == "Cancelled")


# -- the suites -----------------------------------------------------------------------------------


class TestSalesforceCrm(CrmPortContract):
    @pytest.fixture
    def adapter(self, policy: Policy) -> SalesforceCrm:
        crm: SalesforceCrm = build_adapter(policy, "salesforce", SANDBOX_ENV)
        return crm

    @pytest.fixture
    def closed_won_deal(self, book: PriceBook, tag: str) -> SeededDeal:
        return seed_deal(book, tag, won=True)

    @pytest.fixture
    def open_deal(self, book: PriceBook, tag: str) -> ExternalRef:
        return seed_deal(book, tag, won=False).deal

    @pytest.fixture
    def unknown_deal(self) -> ExternalRef:
        return ExternalRef(system="salesforce", id="0068d00000000ZZAAA")

    @pytest.fixture
    def crm_records(self, estate: LocalEstate) -> SalesforceRecords:
        return SalesforceRecords(estate)

    @pytest.mark.xfail(
        strict=True,
        raises=DataError,
        reason="SalesforceCrm.write_back raises DataError (INVALID_CROSS_REFERENCE_KEY) for a "
        "deal that does not exist, where fetch_deal raises NotFoundError; with an ERP "
        "customer in the status it raises NotFoundError",
    )
    def test_writing_back_to_an_unknown_deal_is_not_found(
        self, adapter: CrmPort, unknown_deal: ExternalRef
    ) -> None:
        super().test_writing_back_to_an_unknown_deal_is_not_found(adapter, unknown_deal)


class TestSalesforceChangeFeed(ChangeFeedPortContract):
    @pytest.fixture
    def crm(self, policy: Policy) -> SalesforceCrm:
        crm: SalesforceCrm = build_adapter(policy, "salesforce", SANDBOX_ENV)
        return crm

    @pytest.fixture
    def feed(self, crm: SalesforceCrm) -> Any:
        return crm.change_feed()

    @pytest.fixture
    def win_deal(self, book: PriceBook) -> Callable[[], ExternalRef]:
        return lambda: seed_deal(book, uuid.uuid4().hex[:10], won=True).deal

    @pytest.fixture
    def open_deal(self, book: PriceBook, tag: str) -> ExternalRef:
        return seed_deal(book, tag, won=False).deal


class TestNetSuiteErp(ErpPortContract):
    @pytest.fixture
    def adapter(self, policy: Policy) -> NetSuiteErp:
        erp: NetSuiteErp = build_adapter(policy, "netsuite", SANDBOX_ENV)
        return erp

    @pytest.fixture
    def order_plan(self, policy: Policy, tag: str) -> OrderPlan:
        return uk_plan(policy, tag)

    @pytest.fixture
    def order_tax(self, order_plan: OrderPlan) -> TaxQuote:
        return vat_quote(order_plan)

    @pytest.fixture
    def refused_order(self, order_plan: OrderPlan) -> OrderPlan:
        """The account requires a department on every sales order; this entity has none."""
        return order_plan.model_copy(
            update={"entity": order_plan.entity.model_copy(update={"department": None})}
        )

    @pytest.fixture
    def unknown_order(self) -> ExternalRef:
        return ExternalRef(system="netsuite", id="999999")

    @pytest.fixture
    def erp_records(self, estate: LocalEstate) -> NetSuiteRecords:
        return NetSuiteRecords(estate)


class TestStripeBilling(BillingPortContract):
    @pytest.fixture
    def adapter(self, policy: Policy, book: PriceBook) -> StripeBilling:
        billing: StripeBilling = build_adapter(policy, "stripe", SANDBOX_ENV)
        return billing

    @pytest.fixture
    def order_plan(self, policy: Policy, tag: str) -> OrderPlan:
        return uk_plan(policy, tag)

    @pytest.fixture
    def unknown_subscription(self) -> ExternalRef:
        return ExternalRef(system="stripe", id="sub_0000000000000000000000")

    @pytest.fixture
    def billing_records(self, estate: LocalEstate) -> StripeRecords:
        return StripeRecords(estate)


class TestAvalaraTax(TaxPortContract):
    @pytest.fixture
    def adapter(self, policy: Policy) -> AvalaraTax:
        tax: AvalaraTax = build_adapter(policy, "avalara", SANDBOX_ENV)
        return tax

    @pytest.fixture
    def order_plan(self, policy: Policy, tag: str) -> OrderPlan:
        return uk_plan(policy, tag)

    @pytest.fixture
    def tax_records(self, estate: LocalEstate) -> AvalaraRecords:
        return AvalaraRecords(estate)


# -- the contracts catch broken adapters ----------------------------------------------------------


class ChildFirstCrm(SalesforceCrm):
    """Reads the account hierarchy child first, as a mapping that forgot to reverse it."""

    async def fetch_deal(self, deal: ExternalRef) -> DealPackage:
        package = await super().fetch_deal(deal)
        return package.model_copy(update={"hierarchy": package.hierarchy[::-1]})


class SuffixingErp(NetSuiteErp):
    """Upserts every customer under a new external id (a random suffix): one more each time."""

    async def upsert_customer(
        self, customer: Customer, parent: ExternalRef | None, entity: Any
    ) -> ExternalRef:
        suffixed = f"{customer.customer_id}-{uuid.uuid4().hex[:6]}"
        return await super().upsert_customer(
            customer.model_copy(update={"customer_id": suffixed}), parent, entity
        )


class KeylessStripeClient(StripeClient):
    """Sends every create under a fresh idempotency key, as a client that forgot to derive it."""

    async def create(
        self, path: str, params: Any, *, operation: str, idempotency_key: str
    ) -> dict[str, Any]:
        return await super().create(
            path, params, operation=operation, idempotency_key=uuid.uuid4().hex
        )


class FloatTax(AvalaraTax):
    """Hands tax back as binary floats, slipped past Money's validation."""

    async def quote_tax(self, plan: OrderPlan) -> TaxQuote:
        quote = await super().quote_tax(plan)

        def inexact(tax: Money) -> Money:
            amount = float(tax.amount)
            return Money.model_construct(amount=amount, currency=tax.currency)  # type: ignore[arg-type]

        line_tax = {line: inexact(tax) for line, tax in quote.line_tax.items()}
        return quote.model_copy(
            update={"total_tax": inexact(quote.total_tax), "line_tax": line_tax}
        )


class LineDroppingTax(AvalaraTax):
    """Loses the last line's tax on the way back, keeping the engine's total."""

    async def quote_tax(self, plan: OrderPlan) -> TaxQuote:
        quote = await super().quote_tax(plan)
        *kept, _ = quote.line_tax.items()
        return quote.model_copy(update={"line_tax": dict(kept)})


def test_crm_contract_fails_an_adapter_that_reads_the_hierarchy_child_first(
    policy: Policy, book: PriceBook, tag: str
) -> None:
    built: SalesforceCrm = build_adapter(policy, "salesforce", SANDBOX_ENV)
    broken = ChildFirstCrm(built.system, built.client, built.status_field)

    with pytest.raises(AssertionError, match="the hierarchy, root first"):
        CrmPortContract().test_the_customer_hierarchy_reads_parents_first(
            broken, seed_deal(book, tag, won=True)
        )


@pytest.fixture
def duplicate_names_allowed(estate: LocalEstate) -> Iterator[None]:
    """Duplicate detection off, as on many NetSuite accounts: the ERP itself refuses nothing."""
    config = f"{estate.urls['netsuite']}/_sandbox/netsuite/config"
    httpx.put(config, json={"block_duplicate_names": False}).raise_for_status()
    yield
    httpx.put(config, json={"block_duplicate_names": True}).raise_for_status()


@pytest.mark.usefixtures("duplicate_names_allowed")
def test_erp_contract_fails_an_adapter_that_creates_a_customer_per_upsert(
    policy: Policy, estate: LocalEstate, tag: str
) -> None:
    built: NetSuiteErp = build_adapter(policy, "netsuite", SANDBOX_ENV)
    broken = SuffixingErp(built.system, built.client)
    contract = ErpPortContract()
    records = NetSuiteRecords(estate)

    with pytest.raises(AssertionError, match="upserted twice got two refs"):
        contract.test_upserting_a_customer_twice_keeps_one_customer(
            broken, uk_plan(policy, tag), records
        )
    with pytest.raises(AssertionError, match="hierarchy's refs when it is booked again"):
        contract.test_a_child_customer_is_kept_under_its_parent(
            broken, uk_plan(policy, f"{tag}b"), records
        )


def test_billing_contract_fails_an_adapter_that_adds_charges_twice(
    policy: Policy, estate: LocalEstate, book: PriceBook, tag: str
) -> None:
    built: StripeBilling = build_adapter(policy, "stripe", SANDBOX_ENV)
    client = KeylessStripeClient(
        built.client.http, SANDBOX_ENV["STRIPE_API_KEY"], built.client.api_version
    )
    broken = StripeBilling(built.system, client, built.options)

    with pytest.raises(AssertionError, match="adding the charges again made new items"):
        BillingPortContract().test_one_time_charges_are_added_once(
            broken, uk_plan(policy, tag), StripeRecords(estate)
        )


@pytest.mark.parametrize(
    ("broken_type", "failure"),
    [(FloatTax, "is not a Decimal"), (LineDroppingTax, "the lines tax was quoted for")],
)
def test_tax_contract_fails_an_adapter_with_inexact_or_missing_line_tax(
    policy: Policy, tag: str, broken_type: type[AvalaraTax], failure: str
) -> None:
    built: AvalaraTax = build_adapter(policy, "avalara", SANDBOX_ENV)
    broken = broken_type(
        built.system,
        built.client,
        document_type=built.document_type,
        commit_documents=built.commit_documents,
        origins=built.origins,
    )

    with pytest.raises(AssertionError, match=failure):
        TaxPortContract().test_tax_is_exact_money_per_line_summing_to_the_total(
            broken, uk_plan(policy, tag)
        )
