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
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from revbridge.canonical import (
    BillingFrequency,
    ExternalRef,
    Money,
    ProductKind,
    correlation_id_for,
)
from revbridge.config.systems import SalesforceSystem
from revbridge.connectors.salesforce import SalesforceCrm, build, closed_won_signals, verify_push
from revbridge.connectors.salesforce.classify import classify
from revbridge.errors import (
    AuthError,
    ConflictError,
    ConnectorError,
    DataError,
    NotFoundError,
    RateLimitedError,
    RetryableError,
)
from revbridge.observability.calls import CallRecord
from revbridge.ports import DealStatus
from revbridge.testing.servers import serve
from revbridge_sandboxes.salesforce import create_app

T = TypeVar("T")
CLIENT_ID = "revbridge-sandbox-client"
CLIENT_SECRET = "revbridge-sandbox-secret"
PASSWORD = "sandbox-password"
ENV = {
    "SF_CLIENT_ID": CLIENT_ID,
    "SF_CLIENT_SECRET": CLIENT_SECRET,
    "SF_PASSWORD": PASSWORD,
    "SF_USERNAME": "integration@revbridge.example",
    "SF_WRONG": "not-the-client-secret",
}
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
        book = self.api.get(
            "/query", params={"q": "SELECT Id FROM Pricebook2 WHERE IsStandard = true"}
        ).json()
        product = self.create(
            "Product2", Name=f"{code} product", ProductCode=code, Family=family, IsActive=True
        )
        return self.create(
            "PricebookEntry",
            Pricebook2Id=book["records"][0]["Id"],
            Product2Id=product,
            UnitPrice=price,
            IsActive=True,
            CurrencyIsoCode="GBP",
        )

    def account(self, name: str, parent: str | None = None, **fields: Any) -> str:
        return self.create("Account", Name=name, ParentId=parent, CurrencyIsoCode="GBP", **fields)

    def uk_deal(self, **child_fields: Any) -> tuple[str, str]:
        """A three-line deal for a UK child account under two parents: (opp id, account id)."""
        group = self.account(
            "Northwind Group",
            BillingStreet="1 Market St",
            BillingCity="Boston",
            BillingCountryCode="US",
            BillingStateCode="MA",
        )
        europe = self.account(
            "Northwind Europe",
            group,
            BillingStreet="5 Quai Est",
            BillingCity="Paris",
            BillingCountryCode="FR",
        )
        fields = {
            "BillingStreet": "10 Fleet Street\nFloor 4",
            "BillingCity": "London",
            "BillingPostalCode": "EC4Y 1AA",
            "BillingCountryCode": "GB",
            "Tax_Id__c": "GB123456789",
            "Payment_Terms__c": "Net 30",
            **child_fields,
        }
        child = self.account("Northwind UK Ltd", europe, **fields)
        opp = self.create(
            "Opportunity",
            Name="Northwind UK platform",
            AccountId=child,
            StageName="Negotiation/Review",
            CloseDate="2025-03-31",
            CurrencyIsoCode="GBP",
            Contract_Start_Date__c="2025-04-01",
            Contract_End_Date__c="2026-03-31",
            Billing_Frequency__c="Annual",
            Auto_Renew__c=True,
        )
        for code, family, price, quantity, extra in (
            ("SUB-PLATFORM-ANNUAL", "Subscription", "12000.00", 1, {}),
            ("SVC-IMPLEMENTATION", "Services", "1500.00", 10, {"Discount": 10}),
            ("USG-API-CALLS", "Usage", "2.75", 40, {"ServiceDate": "2025-05-01"}),
        ):
            self.create(
                "OpportunityLineItem",
                OpportunityId=opp,
                Quantity=quantity,
                PricebookEntryId=self.product(code, family, price),
                UnitPrice=price,
                **extra,
            )
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
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{salesforce_sandbox}/services/data/v62.0", headers=headers) as api:
        yield Org(salesforce_sandbox, api)
    httpx.put(f"{salesforce_sandbox}/_sandbox/faults", json={})


def adapter(org: Org, secret: str = "SF_CLIENT_SECRET", **system: Any) -> SalesforceCrm:
    credentials = {
        "client_id": {"env": "SF_CLIENT_ID"},
        "client_secret": {"env": secret},
        **system.pop("credentials", {}),
    }
    config = {
        "kind": "salesforce",
        "base_url": org.base_url,
        "credentials": credentials,
        "retry": {"max_attempts": 4, "base_delay_s": 0.01, "max_delay_s": 0.05},
        **system,
    }
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
    assert order.correlation_id == correlation_id_for(ref(opp))
    assert order.legal_entity is None
    assert [c.name for c in deal.hierarchy] == [
        "Northwind Group",
        "Northwind Europe",
        "Northwind UK Ltd",
    ]
    assert [c.parent_id for c in deal.hierarchy] == [
        None,
        deal.hierarchy[0].customer_id,
        deal.hierarchy[1].customer_id,
    ]
    customer = order.customer
    assert customer == deal.hierarchy[-1]
    assert (customer.customer_id, customer.external_refs) == (f"acct-{child}", (ref(child),))
    assert customer.billing_address is not None
    assert customer.billing_address.model_dump() == {
        "line1": "10 Fleet Street",
        "line2": "Floor 4",
        "city": "London",
        "region": None,
        "postal_code": "EC4Y 1AA",
        "country": "GB",
    }
    assert (customer.tax_id, customer.tax_exemption, customer.currency) == (
        "GB123456789",
        None,
        "GBP",
    )
    assert customer.payment_terms is not None
    assert customer.payment_terms.net_days == 30
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
        Decimal("10"),
        gbp("1500.00"),
        gbp("1500.00"),
        gbp("13500.00"),
    )
    assert str(svc.amount.amount) == "13500.00"
    assert isinstance(usage.unit_price.amount, Decimal)
    assert (usage.amount, usage.service_start, usage.service_end) == (
        gbp("110.00"),
        date(2025, 5, 1),
        date(2026, 3, 31),
    )
    assert (sub.service_start, sub.service_end, svc.service_end) == (
        date(2025, 4, 1),
        date(2026, 3, 31),
        None,
    )
    assert order.total == gbp("25610.00")
    assert order.contract is not None
    assert (order.contract.term_months, order.contract.billing_frequency) == (
        12,
        BillingFrequency.ANNUAL,
    )
    assert order.contract.auto_renew is True
    assert sorted(c.operation for c in calls) == [
        "read_account_hierarchy",
        "read_line_items",
        "read_opportunity",
    ]


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


def test_hierarchy_is_read_five_parents_deep_and_unsellable_families_are_refused(
    org: Org,
) -> None:
    opp, child = org.uk_deal()
    parent = None
    for level in range(7):
        parent = org.account(f"Level {level}", parent)
    org.update("Account", child, ParentId=parent)
    crm = adapter(org)
    deal = run(crm, lambda: crm.fetch_deal(ref(opp)))
    assert [c.name for c in deal.hierarchy] == [f"Level {n}" for n in range(2, 7)] + [
        "Northwind UK Ltd"
    ]
    assert deal.hierarchy[0].parent_id is not None  # the rules report the unread parent
    org.create(
        "OpportunityLineItem",
        OpportunityId=opp,
        Quantity=1,
        UnitPrice="10.00",
        PricebookEntryId=org.product("HW-ROUTER", "Hardware", "10.00"),
    )
    with pytest.raises(DataError) as caught:
        run(crm, lambda: crm.fetch_deal(ref(opp)))
    assert (caught.value.code, caught.value.system) == ("UNKNOWN_PRODUCT_FAMILY", "salesforce")


def test_write_back_shows_on_the_opportunity_and_account_in_one_call(org: Org) -> None:
    opp, child = org.uk_deal()
    crm = adapter(org)
    calls: list[CallRecord] = []
    crm.client.http.observers.append(calls.append)
    status = DealStatus(
        status="Synced",
        correlation_id="corr-42",
        erp_order=ExternalRef(system="netsuite", id="SO-9"),
        billing_customer=ExternalRef(system="stripe", id="cus_1"),
        billing_subscription=ExternalRef(system="stripe", id="sub_1"),
        erp_customer=ExternalRef(system="netsuite", id="C-77"),
    )

    async def twice() -> None:
        await crm.write_back(ref(opp), status)
        await crm.write_back(ref(opp), status)

    run(crm, twice)
    record = org.get("Opportunity", opp)
    assert {
        key: record[key]
        for key in (
            "Integration_Status__c",
            "ERP_Order_Id__c",
            "Billing_Customer_Id__c",
            "Billing_Subscription_Id__c",
            "Correlation_Id__c",
        )
    } == {
        "Integration_Status__c": "Synced",
        "ERP_Order_Id__c": "SO-9",
        "Billing_Customer_Id__c": "cus_1",
        "Billing_Subscription_Id__c": "sub_1",
        "Correlation_Id__c": "corr-42",
    }
    assert org.get("Account", child)["ERP_Customer_Id__c"] == "C-77"
    # without a fetch first, the account id is read once; each write-back is then one call
    assert [c.operation for c in calls] == ["read_opportunity_account", "write_back", "write_back"]
    state = org.control("GET", "state")
    assert len(state["records"]["Opportunity"]) == 1
    assert len(state["records"]["Account"]) == 3


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
        ("write_back", "retryable"),
        ("write_back", "ok"),
    ]
    assert org.control("GET", "state")["_faults"] == {"commit_then_drop": 1}
    assert org.get("Opportunity", opp)["Integration_Status__c"] == "Synced"
    assert len(org.control("GET", "state")["records"]["Opportunity"]) == 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_injected_error_bursts_are_retried_and_succeed(org: Org, status: int) -> None:
    opp, _ = org.uk_deal()
    org.control(
        "PUT",
        "faults",
        {
            "rules": [
                {"path": "/services/data/*", "errors": {str(status): 1.0}, "retry_after_s": None}
            ]
        },
    )
    crm = adapter(org)
    failures: list[CallRecord] = []

    def heal(record: CallRecord) -> None:
        if record.outcome == "retryable":
            failures.append(record)
            if len(failures) == 2:
                org.control("PUT", "faults", {})

    crm.client.http.observers.append(heal)
    deal = run(crm, lambda: crm.fetch_deal(ref(opp)))
    assert len(deal.order.lines) == 3
    assert len(failures) >= 2  # the two first reads run in parallel: a third may be in flight
    assert org.control("GET", "state")["_faults"] == {f"error_{status}": len(failures)}


def test_expired_session_is_refreshed_once_and_the_call_succeeds(org: Org) -> None:
    opp, _ = org.uk_deal()
    crm = adapter(
        org, credentials={"username": {"env": "SF_USERNAME"}, "password": {"env": "SF_PASSWORD"}}
    )
    calls: list[CallRecord] = []
    crm.client.http.observers.append(calls.append)

    async def revoke_then_fetch() -> tuple[str, str]:
        await crm.fetch_deal(ref(opp))
        first = await bearer(crm)
        async with httpx.AsyncClient(base_url=org.base_url) as plain:
            await plain.post("/services/oauth2/revoke", data={"token": first})
        deal = await crm.fetch_deal(ref(opp))
        assert len(deal.order.lines) == 3
        return first, await bearer(crm)

    first, second = run(crm, revoke_then_fetch)
    assert first != second
    assert all(c.outcome == "ok" and c.attempt == 1 for c in calls)


async def bearer(crm: SalesforceCrm) -> str:
    auth = crm.client.http.auth
    assert auth is not None
    return (await auth.headers(crm.client.http.client))["Authorization"].removeprefix("Bearer ")


def assert_redacted(error: ConnectorError, *secrets: str) -> None:
    exposed = f"{error} {error.request} {error.response}"
    for secret in (CLIENT_SECRET, PASSWORD, *secrets):
        assert secret not in exposed
    assert error.request
    assert error.response
    assert error.system == "salesforce"


def test_refused_credentials_raise_auth_error_without_the_secret(org: Org) -> None:
    crm = adapter(org, secret="SF_WRONG")
    with pytest.raises(AuthError) as caught:
        run(crm, lambda: crm.fetch_deal(ref("0068d0000000001AAA")))
    assert caught.value.code == "invalid_client"
    assert_redacted(caught.value, ENV["SF_WRONG"])
    assert caught.value.request["body"]["client_secret"] == "***"


def test_vendor_validation_errors_become_data_errors_with_redacted_exchange(org: Org) -> None:
    opp, _ = org.uk_deal()
    crm = adapter(org, options={"status_field": "No_Such_Field__c"})
    status = DealStatus(status="Synced", correlation_id="c-1")

    async def failing() -> list[ConnectorError]:
        token = ""
        errors: list[ConnectorError] = []
        for deal_id in (opp, "not-an-id"):
            try:
                await crm.write_back(ref(deal_id), status)
            except ConnectorError as error:
                errors.append(error)
            token = await bearer(crm)
        for failure in errors:
            assert_redacted(failure, token)
        return errors

    unknown_field, malformed = run(crm, failing)
    assert isinstance(unknown_field, DataError)
    assert unknown_field.code == "INVALID_FIELD"
    assert unknown_field.request["headers"]["authorization"] == "***"
    assert isinstance(malformed, DataError)
    assert malformed.code == "MALFORMED_ID"


def test_missing_deal_and_spent_api_allocation_are_classified(org: Org) -> None:
    crm = adapter(org, retry={"max_attempts": 1})
    with pytest.raises(NotFoundError):
        run(crm, lambda: crm.fetch_deal(ref("0068d00000000ZZAAA")))
    org.control("PUT", "limits", {"used": 1_000_000})
    try:
        with pytest.raises(RateLimitedError) as caught:
            run(crm, lambda: crm.fetch_deal(ref("0068d00000000ZZAAA")))
    finally:
        org.control("PUT", "limits", {"used": 0})
    assert (caught.value.status, caught.value.code) == (403, "REQUEST_LIMIT_EXCEEDED")


def test_closing_the_deal_yields_one_closed_won_signal_after_the_replay_id(org: Org) -> None:
    opp, _ = org.uk_deal()
    crm = adapter(org)
    feed = crm.change_feed()

    async def read() -> tuple[list[dict[str, Any]], int | None, list[dict[str, Any]], int | None]:
        before, cursor = await feed.read_after(None, limit=1000)
        org.update("Opportunity", opp, Description="negotiating")
        org.update("Opportunity", opp, StageName="Closed Won")
        after, last = await feed.read_after(cursor, limit=1000)
        return before, cursor, after, last

    before, cursor, after, last = run(crm, read)
    assert before
    assert cursor is not None
    assert not [s for event in before for s in closed_won_signals(event, "salesforce")]
    assert len(after) == 2
    assert all(e["event"]["replayId"] > cursor for e in after)
    assert last == after[-1]["event"]["replayId"]
    signals = [s for event in after for s in closed_won_signals(event, "salesforce")]
    assert [s.opportunity for s in signals] == [ref(opp)]
    signal = signals[0]
    header = after[-1]["payload"]["ChangeEventHeader"]
    assert signal.event_id == after[-1]["event"]["EventUuid"]
    assert signal.replay_id == last
    assert signal.version == f"{header['commitNumber']}:{header['sequenceNumber']}"


def test_pull_honours_the_limit_and_resumes_from_the_last_event_read(org: Org) -> None:
    org.uk_deal()
    crm = adapter(org)
    feed = crm.change_feed("/data/AccountChangeEvent")

    async def pages() -> list[list[int]]:
        seen: list[list[int]] = []
        cursor: int | None = None
        while True:
            events, cursor = await feed.read_after(cursor, limit=2)
            if not events:
                return seen
            seen.append([e["event"]["replayId"] for e in events])

    pages_read = run(crm, pages)
    assert [len(page) for page in pages_read] == [2, 1]
    flat = [replay for page in pages_read for replay in page]
    assert flat == sorted(set(flat))


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


def receiver(inbox: list[Received]) -> Starlette:
    async def hook(request: Request) -> Response:
        inbox.append(Received(dict(request.headers), await request.body()))
        return Response(status_code=204)

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


def test_pushed_change_event_signature_verifies_and_forgeries_do_not(org: Org) -> None:
    opp, _ = org.uk_deal()
    inbox: list[Received] = []
    with serve(receiver(inbox)) as hook_url:
        org.control(
            "POST",
            "cdc/subscribers",
            {"url": f"{hook_url}/hook", "secret": PUSH_SECRET, "entities": ["Opportunity"]},
        )
        org.update("Opportunity", opp, StageName="Closed Won")
        deadline = time.monotonic() + 5
        while not inbox and time.monotonic() < deadline:
            time.sleep(0.02)
    pushed = inbox[0]
    now = time.time()
    verify_push(pushed.headers, pushed.body, PUSH_SECRET, now)
    signals = closed_won_signals(httpx.Response(200, content=pushed.body).json(), "salesforce")
    assert [s.opportunity for s in signals] == [ref(opp)]
    assert signals[0].event_id == pushed.headers["webhook-id"]
    forgeries = [
        (pushed.headers, pushed.body.replace(b"Closed Won", b"Closed Lost"), PUSH_SECRET, now),
        (pushed.headers, pushed.body, "whsec_" + "d3Jvbmc=", now),
        (pushed.headers, pushed.body, PUSH_SECRET, now + 301),
        ({**pushed.headers, "webhook-signature": "v1,AAAA"}, pushed.body, PUSH_SECRET, now),
        ({"webhook-id": "x"}, pushed.body, PUSH_SECRET, now),
    ]
    for headers, body, secret, at in forgeries:
        with pytest.raises(AuthError):
            verify_push(headers, body, secret, at)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (401, "INVALID_SESSION_ID", AuthError),
        (403, "REQUEST_LIMIT_EXCEEDED", RateLimitedError),
        (404, "NOT_FOUND", NotFoundError),
        (400, "REQUIRED_FIELD_MISSING", DataError),
        (400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", DataError),
        (400, "INVALID_CROSS_REFERENCE_KEY", DataError),
        (400, "DUPLICATE_VALUE", ConflictError),
        (503, "SERVER_UNAVAILABLE", RetryableError),
        (500, "UNKNOWN_EXCEPTION", RetryableError),
    ],
)
def test_classify_maps_rest_error_codes_to_the_error_tree(
    status: int, code: str, expected: type[ConnectorError]
) -> None:
    found = classify(httpx.Response(status, json=[{"errorCode": code, "message": "m"}]))
    assert type(found) is expected
    assert found.code == code


def test_classify_reads_ambiguous_upserts_item_errors_and_oauth_errors() -> None:
    urls = [
        "/services/data/v62.0/sobjects/Account/001A",
        "/services/data/v62.0/sobjects/Account/001B",
    ]
    assert type(classify(httpx.Response(300, json=urls))) is ConflictError
    item = {"statusCode": "INVALID_FIELD", "message": "m", "fields": []}
    rolled_back = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "m"}
    results = [{"success": False, "errors": [rolled_back]}, {"success": False, "errors": [item]}]
    found = classify(httpx.Response(200, json=results))
    assert type(found) is DataError
    assert found.code == "INVALID_FIELD"
    oauth = {"error": "invalid_grant", "error_description": "authentication failure"}
    assert type(classify(httpx.Response(400, json=oauth))) is AuthError
    assert classify(httpx.Response(204)) is None
    assert (
        classify(httpx.Response(200, json=[{"id": "006A", "success": True, "errors": []}])) is None
    )
