"""SalesforceCrm, its change feed and push verification against the Salesforce sandbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.applications import Starlette

from revbridge.canonical import BillingFrequency, ExternalRef, Money, ProductKind
from revbridge.config.systems import SalesforceSystem
from revbridge.connectors.http import CallRecord
from revbridge.connectors.salesforce import SalesforceCrm, build, closed_won_signals, verify_push
from revbridge.errors import AuthError, ConnectorError, DataError, NotFoundError, RateLimitedError
from revbridge.ports import DealStatus
from revbridge.sandboxes.salesforce import create_app
from revbridge.testing.servers import serve

T = TypeVar("T")
CLIENT_ID = "revbridge-sandbox-client"
CLIENT_SECRET = "revbridge-sandbox-secret"
PASSWORD = "sandbox-password"
ENV = {"SF_CLIENT_ID": CLIENT_ID, "SF_CLIENT_SECRET": CLIENT_SECRET, "SF_PASSWORD": PASSWORD,
       "SF_USERNAME": "integration@revbridge.example", "SF_WRONG": "not-the-client-secret"}  # fmt: skip
COLLECTIONS = "/services/data/*/composite/sobjects"
PUSH_SECRET = "whsec_" + "c2VjcmV0LWZvci1yZXZicmlkZ2UtdGVzdHM="


@dataclass
class Org:
    """The sandbox over its REST API, for seeding and inspecting what the adapter did."""

    base_url: str
    api: httpx.Client

    def create(self, type_name: str, **fields: Any) -> str:
        response = self.api.post(f"/sobjects/{type_name}", json=fields)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def get(self, type_name: str, record_id: str) -> dict[str, Any]:
        response = self.api.get(f"/sobjects/{type_name}/{record_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def update(self, type_name: str, record_id: str, **fields: Any) -> None:
        response = self.api.patch(f"/sobjects/{type_name}/{record_id}", json=fields)
        assert response.status_code == 204, response.text

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.base_url}/_sandbox/{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def product(self, code: str, family: str, price: str) -> str:
        """A product with a GBP standard price; the price book entry id."""
        book = self.api.get("/query", params={"q": "SELECT Id FROM Pricebook2"}).json()
        product = self.create("Product2", Name=f"{code} product", ProductCode=code,
                              Family=family, IsActive=True)  # fmt: skip
        return self.create("PricebookEntry", Pricebook2Id=book["records"][0]["Id"],
                           Product2Id=product, UnitPrice=price, IsActive=True,
                           CurrencyIsoCode="GBP")  # fmt: skip

    def account(self, name: str, parent: str | None = None, **fields: Any) -> str:
        return self.create("Account", Name=name, ParentId=parent, CurrencyIsoCode="GBP", **fields)

    def uk_deal(self, **child_fields: Any) -> tuple[str, str]:
        """A three-line deal for a UK child account under two parents: (opp id, account id)."""
        group = self.account("Northwind Group", BillingStreet="1 Market St",
                             BillingCity="Boston", BillingCountryCode="US",
                             BillingStateCode="MA")  # fmt: skip
        europe = self.account("Northwind Europe", group, BillingStreet="5 Quai Est",
                              BillingCity="Paris", BillingCountryCode="FR")  # fmt: skip
        fields = {"BillingStreet": "10 Fleet Street\nFloor 4", "BillingCity": "London",
                  "BillingPostalCode": "EC4Y 1AA", "BillingCountryCode": "GB",
                  "Tax_Id__c": "GB123456789", "Payment_Terms__c": "Net 30", **child_fields}  # fmt: skip
        child = self.account("Northwind UK Ltd", europe, **fields)
        opp = self.create("Opportunity", Name="Northwind UK platform", AccountId=child,
                          StageName="Negotiation/Review", CloseDate="2025-03-31",
                          CurrencyIsoCode="GBP", Contract_Start_Date__c="2025-04-01",
                          Contract_End_Date__c="2026-03-31", Billing_Frequency__c="Annual",
                          Auto_Renew__c=True)  # fmt: skip
        for code, family, price, quantity, extra in (
            ("SUB-PLATFORM-ANNUAL", "Subscription", "12000.00", 1, {}),
            ("SVC-IMPLEMENTATION", "Services", "1500.00", 10, {"Discount": 10}),
            ("USG-API-CALLS", "Usage", "2.75", 40, {"ServiceDate": "2025-05-01"}),
        ):
            self.create("OpportunityLineItem", OpportunityId=opp, Quantity=quantity,
                        PricebookEntryId=self.product(code, family, price),
                        UnitPrice=price, **extra)  # fmt: skip
        return opp, child


@pytest.fixture(scope="module")
def salesforce_sandbox() -> Iterator[str]:
    with serve(create_app(cometd_timeout_s=1.0)) as base_url:
        yield base_url


@pytest.fixture
def org(salesforce_sandbox: str) -> Iterator[Org]:
    httpx.post(f"{salesforce_sandbox}/_sandbox/reset")
    token = httpx.post(
        f"{salesforce_sandbox}/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
              "client_secret": CLIENT_SECRET},
    ).json()["access_token"]  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{salesforce_sandbox}/services/data/v62.0", headers=headers) as api:
        yield Org(salesforce_sandbox, api)
    httpx.put(f"{salesforce_sandbox}/_sandbox/faults", json={})


def adapter(org: Org, secret: str = "SF_CLIENT_SECRET", **system: Any) -> SalesforceCrm:
    credentials = {"client_id": {"env": "SF_CLIENT_ID"}, "client_secret": {"env": secret},
                   **system.pop("credentials", {})}  # fmt: skip
    config = {"kind": "salesforce", "base_url": org.base_url, "credentials": credentials,
              "retry": {"max_attempts": 4, "base_delay_s": 0.01, "max_delay_s": 0.05}, **system}  # fmt: skip
    return build("salesforce", SalesforceSystem.model_validate(config), ENV)


def run(crm: SalesforceCrm, work: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await work()
        finally:
            await crm.aclose()

    return asyncio.run(main())


def ref(record_id: str) -> ExternalRef:
    return ExternalRef(system="salesforce", id=record_id)


def gbp(amount: str) -> Money:
    return Money.of(amount, "GBP")


def test_fetch_deal_maps_the_opportunity_lines_and_hierarchy_exactly(org: Org) -> None:
    opp, child = org.uk_deal()
    org.update("Opportunity", opp, StageName="Closed Won")
    crm = adapter(org)
    calls: list[CallRecord] = []
    crm.client.http.observers.append(calls.append)
    deal = run(crm, lambda: crm.fetch_deal(ref(opp)))
    order = deal.order
    assert (deal.stage, deal.is_won) == ("Closed Won", True)
    assert deal.closed_at == datetime(2025, 3, 31, tzinfo=UTC)
    assert deal.version == org.get("Opportunity", opp)["SystemModstamp"]
    assert (order.order_id, order.source, order.currency) == (f"opp-{opp}", ref(opp), "GBP")
    assert order.correlation_id == f"corr-{opp}"
    assert order.legal_entity is None
    assert [c.name for c in deal.hierarchy] == ["Northwind Group", "Northwind Europe",
                                                "Northwind UK Ltd"]  # fmt: skip
    assert [c.parent_id for c in deal.hierarchy] == [None, deal.hierarchy[0].customer_id,
                                                     deal.hierarchy[1].customer_id]  # fmt: skip
    customer = order.customer
    assert customer == deal.hierarchy[-1]
    assert (customer.customer_id, customer.external_refs) == (f"acct-{child}", (ref(child),))
    assert customer.billing_address is not None
    assert customer.billing_address.model_dump() == {
        "line1": "10 Fleet Street", "line2": "Floor 4", "city": "London", "region": None,
        "postal_code": "EC4Y 1AA", "country": "GB"}  # fmt: skip
    assert (customer.tax_id, customer.tax_exemption, customer.currency) == ("GB123456789", None, "GBP")
    assert customer.payment_terms is not None and customer.payment_terms.net_days == 30
    assert deal.hierarchy[0].billing_address is not None
    assert deal.hierarchy[0].billing_address.region == "MA"
    sub, svc, usage = order.lines
    assert [(line.sku, line.kind) for line in order.lines] == [
        ("SUB-PLATFORM-ANNUAL", ProductKind.SUBSCRIPTION),
        ("SVC-IMPLEMENTATION", ProductKind.SERVICE),
        ("USG-API-CALLS", ProductKind.USAGE),
    ]
    assert all(line.line_id.startswith("oli-00k") for line in order.lines)
    assert (svc.quantity, svc.unit_price, svc.discount, svc.amount) == (
        Decimal("10"), gbp("1500.00"), gbp("1500.00"), gbp("13500.00"))  # fmt: skip
    assert str(svc.amount.amount) == "13500.00" and isinstance(usage.unit_price.amount, Decimal)
    assert (usage.amount, usage.service_start, usage.service_end) == (
        gbp("110.00"), date(2025, 5, 1), date(2026, 3, 31))  # fmt: skip
    assert (sub.service_start, sub.service_end, svc.service_end) == (
        date(2025, 4, 1), date(2026, 3, 31), None)  # fmt: skip
    assert order.total == gbp("25610.00")
    assert order.contract is not None
    assert (order.contract.term_months, order.contract.billing_frequency) == (
        12, BillingFrequency.ANNUAL)  # fmt: skip
    assert order.contract.auto_renew is True
    assert sorted(c.operation for c in calls) == [
        "read_account_hierarchy", "read_line_items", "read_opportunity"]  # fmt: skip


def test_missing_billing_country_and_reversed_contract_still_map(org: Org) -> None:
    opp, _ = org.uk_deal(BillingCountryCode=None, BillingCountry=None)
    org.update("Opportunity", opp, Contract_End_Date__c="2024-12-31", Correlation_Id__c="corr-x1")
    crm = adapter(org)
    deal = run(crm, lambda: crm.fetch_deal(ref(opp)))
    assert deal.order.customer.billing_address is None
    assert deal.order.correlation_id == "corr-x1"
    assert deal.order.contract is not None
    assert deal.order.contract.end_date < deal.order.contract.start_date
    assert deal.order.contract.term_months == 1


def test_write_back_shows_on_the_opportunity_and_account_in_one_call(org: Org) -> None:
    opp, child = org.uk_deal()
    crm = adapter(org)
    calls: list[CallRecord] = []
    crm.client.http.observers.append(calls.append)
    status = DealStatus(
        status="Synced", correlation_id="corr-42", erp_order=ExternalRef(system="netsuite", id="SO-9"),
        billing_customer=ExternalRef(system="stripe", id="cus_1"),
        billing_subscription=ExternalRef(system="stripe", id="sub_1"),
        erp_customer=ExternalRef(system="netsuite", id="C-77"),
    )  # fmt: skip

    async def twice() -> None:
        await crm.write_back(ref(opp), status)
        await crm.write_back(ref(opp), status)

    run(crm, twice)
    record = org.get("Opportunity", opp)
    assert {key: record[key] for key in ("Integration_Status__c", "ERP_Order_Id__c",
            "Billing_Customer_Id__c", "Billing_Subscription_Id__c", "Correlation_Id__c")} == {
        "Integration_Status__c": "Synced", "ERP_Order_Id__c": "SO-9",
        "Billing_Customer_Id__c": "cus_1", "Billing_Subscription_Id__c": "sub_1",
        "Correlation_Id__c": "corr-42"}  # fmt: skip
    assert org.get("Account", child)["ERP_Customer_Id__c"] == "C-77"
    # without a fetch first, the account id is read once; each write-back is then one call
    assert [c.operation for c in calls] == ["read_opportunity_account", "write_back", "write_back"]
    state = org.control("GET", "state")
    assert len(state["records"]["Opportunity"]) == 1 and len(state["records"]["Account"]) == 3


def test_write_back_answer_dropped_after_commit_is_retried_to_the_same_record(org: Org) -> None:
    opp, _ = org.uk_deal()
    crm = adapter(org)
    run(crm, lambda: crm.fetch_deal(ref(opp)))
    org.control("PUT", "faults", {"rules": [{"path": COLLECTIONS, "commit_then_drop_rate": 1.0}]})
    calls: list[CallRecord] = []

    def heal(record: CallRecord) -> None:
        calls.append(record)
        if record.outcome == "retryable":
            org.control("PUT", "faults", {})

    crm.client.http.observers.append(heal)
    run(crm, lambda: crm.write_back(ref(opp), DealStatus(status="Synced", correlation_id="c-1")))
    assert [(c.operation, c.outcome) for c in calls] == [
        ("write_back", "retryable"), ("write_back", "ok")]  # fmt: skip
    assert org.control("GET", "state")["_faults"] == {"commit_then_drop": 1}
    assert org.get("Opportunity", opp)["Integration_Status__c"] == "Synced"
    assert len(org.control("GET", "state")["records"]["Opportunity"]) == 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_injected_error_bursts_are_retried_and_succeed(org: Org, status: int) -> None:
    opp, _ = org.uk_deal()
    org.control("PUT", "faults", {"rules": [{"path": "/services/data/*", "errors": {str(status): 1.0},
                                             "retry_after_s": None}]})  # fmt: skip
    crm = adapter(org)
    failures: list[CallRecord] = []

    def heal(record: CallRecord) -> None:
        if record.outcome == "retryable":
            failures.append(record)
            if len(failures) == 2:
                org.control("PUT", "faults", {})

    crm.client.http.observers.append(heal)
    deal = run(crm, lambda: crm.fetch_deal(ref(opp)))
    assert len(deal.order.lines) == 3 and len(failures) == 2
    assert org.control("GET", "state")["_faults"] == {f"error_{status}": 2}


def test_expired_session_is_refreshed_once_and_the_call_succeeds(org: Org) -> None:
    opp, _ = org.uk_deal()
    crm = adapter(org, credentials={"username": {"env": "SF_USERNAME"},
                                    "password": {"env": "SF_PASSWORD"}})  # fmt: skip

    async def revoke_then_fetch() -> int:
        await crm.fetch_deal(ref(opp))
        token = (await crm.client.http.auth.headers(crm.client.http.client))["Authorization"]  # type: ignore[union-attr]
        org.control("POST", "../services/oauth2/revoke")  # noqa: not a JSON call
        httpx.post(f"{org.base_url}/services/oauth2/revoke", data={"token": token[7:]})
        deal = await crm.fetch_deal(ref(opp))
        return len(deal.order.lines)

    assert run(crm, revoke_then_fetch) == 3
