"""NetSuiteErp against the NetSuite sandbox over real HTTP, TBA-signed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from revbridge.canonical import ExternalRef, Money
from revbridge.config.systems import NetSuiteSystem
from revbridge.connectors.http import CallRecord
from revbridge.connectors.netsuite import NetSuiteErp, build
from revbridge.connectors.netsuite.mapping import json_number
from revbridge.errors import AuthError, DataError, RateLimitedError, RetryableError
from revbridge.ports import EntityContext, ErpOrderState, LineMapping, OrderPlan, TaxQuote
from revbridge.testing.factories import (
    CORRELATION_ID,
    parent_customer,
    uk_child_customer,
    uk_subscription_order,
)
from revbridge.testing.servers import serve
from revbridge_sandboxes.control import Sandbox
from revbridge_sandboxes.netsuite import DEFAULT_BEARER_TOKEN, DEFAULT_TBA, create_app

T = TypeVar("T")
APPROVAL_DELAY_S = 0.3
ENV = {
    "NS_CONSUMER_KEY": DEFAULT_TBA.consumer_key,
    "NS_CONSUMER_SECRET": DEFAULT_TBA.consumer_secret,
    "NS_TOKEN_ID": DEFAULT_TBA.token_id,
    "NS_TOKEN_SECRET": DEFAULT_TBA.token_secret,
    "NS_ACCESS_TOKEN": DEFAULT_BEARER_TOKEN,
}
SECRETS = (
    DEFAULT_TBA.consumer_key,
    DEFAULT_TBA.consumer_secret,
    DEFAULT_TBA.token_id,
    DEFAULT_TBA.token_secret,
    "wrong-token-secret",
)
TBA_CREDENTIALS = {
    "consumer_key": {"env": "NS_CONSUMER_KEY"},
    "consumer_secret": {"env": "NS_CONSUMER_SECRET"},
    "token_id": {"env": "NS_TOKEN_ID"},
    "token_secret": {"env": "NS_TOKEN_SECRET"},
}
UK = EntityContext(
    code="UK01", name="Brightwave Software Ltd", country="GB", currency="GBP",
    erp_subsidiary="3", tax_company_code="UK01", department="10", location="2",
)  # fmt: skip
LINES = {
    "1": LineMapping(sku="PLAT-ANNUAL", kind="subscription", erp_item="SUB-PLATFORM-ANNUAL",
                     erp_class="100", price_lookup_key="plat", interval="year", tax_code="SAAS"),
    "2": LineMapping(sku="IMPL-STD", kind="service", erp_item="SVC-IMPLEMENTATION",
                     erp_class="200", price_lookup_key="impl", tax_code="SVC"),
    "3": LineMapping(sku="API-CALLS", kind="usage", erp_item="USG-API-CALLS", erp_class="300",
                     price_lookup_key="api", usage_type="metered", tax_code="SAAS"),
}  # fmt: skip
CUSTOMER_PUT = "/services/rest/record/v1/customer/*"


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return create_app(approval_delay_s=APPROVAL_DELAY_S)


@pytest.fixture(scope="module")
def base_url(sandbox: Sandbox) -> Iterator[str]:
    with serve(sandbox) as url:
        yield url


@pytest.fixture
def control(base_url: str) -> Iterator[httpx.Client]:
    """The sandbox's control routes, reset before each test."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        client.post("/_sandbox/reset")
        client.put("/_sandbox/netsuite/config", json={"service_time_ms": 0})
        yield client


def system(
    base_url: str, credentials: dict[str, Any] | None = None, max_attempts: int = 8
) -> NetSuiteSystem:
    return NetSuiteSystem.model_validate(
        {
            "kind": "netsuite",
            "base_url": base_url,
            "credentials": credentials or TBA_CREDENTIALS,
            "retry": {"max_attempts": max_attempts, "base_delay_s": 0.05, "max_delay_s": 0.2},
            "rate_limit": {"requests_per_s": 500, "burst": 100, "max_concurrency": 5},
            "options": {"account_id": "1234567_sb1"},
        }
    )


@pytest.fixture
def erp(base_url: str, control: httpx.Client) -> NetSuiteErp:
    return build("netsuite", system(base_url), ENV)


def run(erp: NetSuiteErp, scenario: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await scenario()
        finally:
            await erp.aclose()

    return asyncio.run(main())


def calls(erp: NetSuiteErp) -> list[CallRecord]:
    records: list[CallRecord] = []
    erp.client.http.observers.append(records.append)
    return records


def records(sandbox: Sandbox, record_type: str) -> list[dict[str, Any]]:
    snapshot: dict[str, Any] = sandbox.state.snapshot()
    return list(snapshot["records"][record_type].values())


def by_external_id(sandbox: Sandbox, record_type: str, external_id: str) -> list[dict[str, Any]]:
    return [r for r in records(sandbox, record_type) if r.get("externalId") == external_id]


def plan(entity: EntityContext = UK, correlation_id: str = CORRELATION_ID) -> OrderPlan:
    order = uk_subscription_order(correlation_id=correlation_id)
    return OrderPlan(
        order=order, hierarchy=(parent_customer(), uk_child_customer()), entity=entity, lines=LINES
    )


def tax_quote(order_plan: OrderPlan) -> TaxQuote:
    line_tax = {line.line_id: line.tax for line in order_plan.order.lines if line.tax}
    return TaxQuote(
        document=ExternalRef(system="avalara", id="ord_uk_0001"),
        total_tax=Money.total(line_tax.values(), "GBP"),
        line_tax=line_tax,
    )


async def customers(erp: NetSuiteErp, entity: EntityContext = UK) -> ExternalRef:
    parent = await erp.upsert_customer(parent_customer(), None, entity)
    return await erp.upsert_customer(uk_child_customer(), parent, entity)


def assert_no_secret(error: Exception) -> None:
    assert isinstance(error, RetryableError | AuthError | DataError)
    exposed = json.dumps([str(error), error.request, error.response])
    for secret in SECRETS:
        assert secret not in exposed
    assert "oauth_signature" not in exposed


async def until(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# -- customers ----------------------------------------------------------------------------------


def test_parent_and_child_customers_upserted_twice_exist_once(
    erp: NetSuiteErp, sandbox: Sandbox
) -> None:
    seen = calls(erp)

    async def scenario() -> tuple[ExternalRef, ExternalRef, ExternalRef, ExternalRef]:
        parent = await erp.upsert_customer(parent_customer(), None, UK)
        child = await erp.upsert_customer(uk_child_customer(), parent, UK)
        again_parent = await erp.upsert_customer(parent_customer(), None, UK)
        again_child = await erp.upsert_customer(uk_child_customer(), again_parent, UK)
        return parent, child, again_parent, again_child

    parent, child, again_parent, again_child = run(erp, scenario)

    assert (again_parent, again_child) == (parent, child)
    assert parent.system == "netsuite"
    [parent_record] = by_external_id(sandbox, "customer", "cus_northwind")
    [child_record] = by_external_id(sandbox, "customer", "cus_northwind_uk")
    assert parent_record["id"] == parent.id
    assert child_record["id"] == child.id
    assert child_record["parent"] == {"id": parent.id}
    assert child_record["subsidiary"] == {"id": "3"}
    assert child_record["currency"] == {"id": "2"}  # GBP, resolved by ISO code
    assert child_record["companyName"] == "Northwind Trading Ltd"
    assert child_record["vatRegNumber"] == "GB123456789"
    [address] = child_record["addressBook"]
    assert address["addressBookAddress"]["zip"] == "W2 6LG"
    assert address["defaultBilling"]
    assert address["defaultShipping"]
    assert [c.operation for c in seen].count("suiteql") == 1  # currencies looked up once


def test_many_concurrent_upserts_stay_within_the_account_limit(
    erp: NetSuiteErp, sandbox: Sandbox, control: httpx.Client
) -> None:
    control.put("/_sandbox/netsuite/config", json={"service_time_ms": 40})
    people = [
        parent_customer().model_copy(update={"customer_id": f"cus_load_{n}", "name": f"Load {n}"})
        for n in range(25)
    ]

    async def scenario() -> list[ExternalRef]:
        return await asyncio.gather(*(erp.upsert_customer(p, None, UK) for p in people))

    refs = run(erp, scenario)

    figures = control.get("/_sandbox/state").json()["concurrency"]
    assert figures["rejected"] == 0
    assert 1 <= figures["peak"] <= 5  # never over the account limit (load may keep it lower)
    assert len({ref.id for ref in refs}) == 25
    assert len(records(sandbox, "customer")) == 25


# -- sales orders -------------------------------------------------------------------------------


def test_uk_sales_order_is_one_record_with_dimensions_items_and_amounts(
    erp: NetSuiteErp, sandbox: Sandbox
) -> None:
    seen = calls(erp)
    order_plan = plan()

    async def scenario() -> tuple[ExternalRef, ExternalRef]:
        customer = await customers(erp)
        first = await erp.submit_sales_order(order_plan, customer, tax_quote(order_plan))
        second = await erp.submit_sales_order(order_plan, customer, tax_quote(order_plan))
        return first, second

    first, second = run(erp, scenario)

    assert first == second
    [order] = records(sandbox, "salesOrder")
    assert order["id"] == first.id
    assert order["externalId"] == "ord_uk_0001"
    assert order["subsidiary"] == {"id": "3"}
    assert order["currency"] == {"id": "2"}
    assert order["department"] == {"id": "10"}
    assert order["location"] == {"id": "2"}
    assert order["otherRefNum"] == "006Dn000004QmZtIAK"
    assert CORRELATION_ID in order["memo"]
    assert (order["startDate"], order["endDate"]) == ("2025-01-01", "2025-12-31")
    lines = [
        (ln["item"]["id"], ln["class"]["id"], ln["quantity"], ln["rate"], ln["amount"])
        for ln in order["item"]
    ]
    assert lines == [
        ("201", "100", 1, 12000, 12000),
        ("203", "200", 1, 4000, 4000),  # the discount is in the rate
        ("205", "300", 100000, 0.0125, 1250),
    ]
    assert order["subtotal"] == 17250
    operations = [c.operation for c in seen]
    assert operations.count("salesOrder.upsert") == 2
    assert operations.count("suiteql") == 2  # currencies once, the three items once


def test_entity_without_required_department_is_a_data_error_with_the_response(
    erp: NetSuiteErp, sandbox: Sandbox
) -> None:
    no_department = UK.model_copy(update={"department": None})

    async def scenario() -> None:
        customer = await customers(erp, no_department)
        await erp.submit_sales_order(plan(no_department), customer, None)

    with pytest.raises(DataError) as caught:
        run(erp, scenario)

    error = caught.value
    assert error.code == "USER_ERROR"
    assert error.status == 400
    assert error.system == "netsuite"
    assert "Department" in str(error)
    assert error.response["body"]["o:errorDetails"][0]["o:errorPath"] == "department"
    assert error.request["method"] == "PUT"
    assert error.request["headers"]["authorization"] == "***"
    assert_no_secret(error)
    assert records(sandbox, "salesOrder") == []


def test_unknown_erp_item_is_a_data_error_before_anything_is_written(
    erp: NetSuiteErp, sandbox: Sandbox
) -> None:
    lines = {**LINES, "3": LINES["3"].model_copy(update={"erp_item": "NO-SUCH-ITEM"})}
    order_plan = plan().model_copy(update={"lines": lines})

    async def scenario() -> None:
        await erp.submit_sales_order(order_plan, await customers(erp), None)

    with pytest.raises(DataError, match="NO-SUCH-ITEM") as caught:
        run(erp, scenario)
    assert caught.value.code == "UNKNOWN_ITEM"
    assert records(sandbox, "salesOrder") == []


def test_order_is_pending_approval_then_accepted_after_the_approval_delay(
    erp: NetSuiteErp,
) -> None:
    async def scenario() -> tuple[ErpOrderState, ErpOrderState]:
        order = await erp.submit_sales_order(plan(), await customers(erp), None)
        before = await erp.get_order_state(order)
        await asyncio.sleep(APPROVAL_DELAY_S + 0.1)
        return before, await erp.get_order_state(order)

    assert run(erp, scenario) == (ErpOrderState.PENDING_APPROVAL, ErpOrderState.ACCEPTED)


def test_order_the_erp_refuses_reads_rejected(erp: NetSuiteErp) -> None:
    async def scenario() -> ErpOrderState:
        refused = plan(correlation_id="REJECT-this-order")
        order = await erp.submit_sales_order(refused, await customers(erp), None)
        await asyncio.sleep(APPROVAL_DELAY_S + 0.1)
        return await erp.get_order_state(order)

    assert run(erp, scenario) == ErpOrderState.REJECTED


def test_closing_an_order_closes_every_line_once(erp: NetSuiteErp, sandbox: Sandbox) -> None:
    seen = calls(erp)

    async def scenario() -> ErpOrderState:
        order = await erp.submit_sales_order(plan(), await customers(erp), None)
        await erp.close_sales_order(order)
        await erp.close_sales_order(order)
        return await erp.get_order_state(order)

    assert run(erp, scenario) == ErpOrderState.CLOSED
    [order] = records(sandbox, "salesOrder")
    assert all(line["isClosed"] for line in order["item"])
    assert [c.operation for c in seen].count("salesOrder.patch") == 1


# -- faults -------------------------------------------------------------------------------------


def test_upsert_whose_answer_is_lost_after_commit_leaves_one_customer(
    erp: NetSuiteErp, sandbox: Sandbox, base_url: str
) -> None:
    rule = {"method": "PUT", "path": CUSTOMER_PUT, "commit_then_drop_rate": 1.0}
    seen = calls(erp)

    async def scenario() -> ExternalRef:
        async with httpx.AsyncClient(base_url=base_url) as control:
            await control.put("/_sandbox/faults", json={"rules": [rule]})
            task = asyncio.create_task(erp.upsert_customer(parent_customer(), None, UK))
            await until(lambda: bool(records(sandbox, "customer")) or task.done())
            await control.put("/_sandbox/faults", json={})
            return await task

    ref = run(erp, scenario)

    [customer] = records(sandbox, "customer")
    assert customer["id"] == ref.id
    assert sandbox.injector.counts["commit_then_drop"] >= 1
    upserts = [c.outcome for c in seen if c.operation == "customer.upsert"]
    assert upserts[0] == "retryable"
    assert upserts[-1] == "ok"


def test_sales_order_whose_answer_is_lost_after_commit_is_one_order(
    erp: NetSuiteErp, sandbox: Sandbox, base_url: str
) -> None:
    rule = {"method": "PUT", "path": "/services/rest/record/v1/salesOrder/*",
            "commit_then_drop_rate": 1.0}  # fmt: skip

    async def scenario() -> ExternalRef:
        customer = await customers(erp)
        async with httpx.AsyncClient(base_url=base_url) as control:
            await control.put("/_sandbox/faults", json={"rules": [rule]})
            task = asyncio.create_task(erp.submit_sales_order(plan(), customer, None))
            await until(lambda: bool(records(sandbox, "salesOrder")) or task.done())
            await control.put("/_sandbox/faults", json={})
            return await task

    ref = run(erp, scenario)

    [order] = records(sandbox, "salesOrder")
    assert order["id"] == ref.id
    assert len(order["item"]) == 3


@pytest.mark.parametrize("status", [500, 503, 429])
def test_injected_error_burst_is_retried_until_it_succeeds(
    erp: NetSuiteErp, sandbox: Sandbox, base_url: str, status: int
) -> None:
    rule = {"path": "/services/rest/*", "errors": {str(status): 1.0}}
    seen = calls(erp)

    async def scenario() -> ExternalRef:
        async with httpx.AsyncClient(base_url=base_url) as control:
            await control.put("/_sandbox/faults", json={"rules": [rule]})
            task = asyncio.create_task(customers(erp))
            await until(lambda: sandbox.injector.counts[f"error_{status}"] >= 3 or task.done())
            await control.put("/_sandbox/faults", json={})
            return await task

    child = run(erp, scenario)

    assert by_external_id(sandbox, "customer", "cus_northwind_uk")[0]["id"] == child.id
    assert len(records(sandbox, "customer")) == 2
    assert sum(1 for c in seen if c.outcome == "retryable") >= 3


def test_concurrency_rejection_is_rate_limited_and_names_no_secret(
    base_url: str, control: httpx.Client
) -> None:
    control.put("/_sandbox/faults", json={"rules": [{"errors": {"429": 1.0}}]})
    erp = build("netsuite", system(base_url, max_attempts=2), ENV)

    with pytest.raises(RateLimitedError) as caught:
        run(erp, lambda: erp.upsert_customer(parent_customer(), None, UK))

    assert caught.value.code == "CONCURRENCY_LIMIT_EXCEEDED"
    assert caught.value.retry_after is None  # NetSuite sends no Retry-After
    assert_no_secret(caught.value)
    control.put("/_sandbox/faults", json={})


# -- authentication -----------------------------------------------------------------------------


def test_refused_signature_is_an_auth_error_without_credentials(
    base_url: str, sandbox: Sandbox, control: httpx.Client
) -> None:
    erp = build("netsuite", system(base_url), {**ENV, "NS_TOKEN_SECRET": "wrong-token-secret"})

    with pytest.raises(AuthError) as caught:
        run(erp, lambda: erp.upsert_customer(parent_customer(), None, UK))

    assert caught.value.code == "INVALID_LOGIN"
    assert caught.value.status == 401
    assert_no_secret(caught.value)
    assert records(sandbox, "customer") == []


def test_oauth2_access_token_is_accepted(
    base_url: str, sandbox: Sandbox, control: httpx.Client
) -> None:
    credentials = {"access_token": {"env": "NS_ACCESS_TOKEN"}}
    erp = build("netsuite", system(base_url, credentials), ENV)

    ref = run(erp, lambda: erp.upsert_customer(parent_customer(), None, UK))

    assert records(sandbox, "customer")[0]["id"] == ref.id


# -- numbers ------------------------------------------------------------------------------------


def test_amounts_travel_as_exact_json_numbers() -> None:
    assert json.dumps([json_number(Decimal(t)) for t in ("12000.00", "0.0125", "4500.10")]) == (
        "[12000, 0.0125, 4500.1]"
    )
    with pytest.raises(DataError):
        json_number(Decimal("0.12345678901234567"))
