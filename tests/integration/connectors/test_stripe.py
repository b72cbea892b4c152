"""StripeBilling against the Stripe sandbox over real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import httpx
import pytest

from revbridge.canonical import ExternalRef, Money, Order, OrderLine, ProductKind, TaxExemption
from revbridge.canonical.commerce import BillingFrequency, Contract
from revbridge.config.systems import StripeSystem
from revbridge.connectors.http import CallRecord
from revbridge.connectors.stripe import StripeBilling, build, mapping
from revbridge.connectors.stripe.classify import classify
from revbridge.errors import (
    AuthError,
    ConflictError,
    ConnectorError,
    DataError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from revbridge.ports import EntityContext, LineMapping, OrderPlan
from revbridge.testing.factories import CORRELATION_ID, OPPORTUNITY, uk_child_customer
from revbridge.testing.servers import serve
from revbridge_sandboxes.control import Sandbox
from revbridge_sandboxes.stripe import DEFAULT_API_KEY, create_app

T = TypeVar("T")
API_VERSION = "2026-06-24.dahlia"
ENV = {"STRIPE_API_KEY": DEFAULT_API_KEY}
UK = EntityContext(
    code="UK01", name="Acme Cloud Ltd", country="GB", currency="GBP",
    erp_subsidiary="3", tax_company_code="UK01",
)  # fmt: skip
LINES = {
    "1": LineMapping(sku="SUB-PLATFORM-ANNUAL", kind="subscription",
                     erp_item="SUB-PLATFORM-ANNUAL", price_lookup_key="sub-platform-annual",
                     interval="year", tax_code="SW054000"),
    "2": LineMapping(sku="SVC-IMPLEMENTATION", kind="service", erp_item="SVC-IMPLEMENTATION",
                     price_lookup_key="svc-implementation", tax_code="SC070000"),
    "3": LineMapping(sku="USG-API-CALLS", kind="usage", erp_item="USG-API-CALLS",
                     price_lookup_key="usg-api-calls", interval="year", usage_type="metered",
                     tax_code="SW054000"),
}  # fmt: skip


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return create_app()


@pytest.fixture(scope="module")
def base_url(sandbox: Sandbox) -> Iterator[str]:
    with serve(sandbox) as url:
        yield url


@pytest.fixture(scope="module")
def control(base_url: str) -> Iterator[httpx.Client]:
    """The sandbox's control routes and, with the API key, its API."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


@pytest.fixture
def prices(control: httpx.Client) -> dict[str, str]:
    """A fresh account holding the catalog's GBP prices; lookup key → price id."""
    control.post("/_sandbox/reset").raise_for_status()
    return seed_catalog(control)


def seed_catalog(control: httpx.Client, usage_interval: str = "year") -> dict[str, str]:
    """Products and prices as the seed makes them (lookup key ``<key>_<currency>``).

    The usage price bills yearly here: the sandbox, like Stripe's classic billing mode,
    keeps one interval per subscription.
    """
    headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
    ids: dict[str, str] = {}

    def create(path: str, form: dict[str, str]) -> str:
        response = control.post(path, data=form, headers=headers)
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    meter = create(
        "/v1/billing/meters",
        {"display_name": "API calls", "event_name": "api_calls",
         "default_aggregation[formula]": "sum"},
    )  # fmt: skip
    catalog = [
        ("Acme Platform", "sub-platform-annual_gbp", "960000", {"recurring[interval]": "year"}),
        ("Implementation services", "svc-implementation_gbp", "1200000", {}),
        ("API calls", "usg-api-calls_gbp", "0.16",
         {"recurring[interval]": usage_interval, "recurring[usage_type]": "metered",
          "recurring[meter]": meter}),
    ]  # fmt: skip
    for name, key, amount, extra in catalog:
        product = create("/v1/products", {"name": name})
        ids[key] = create(
            "/v1/prices",
            {"product": product, "currency": "gbp", "unit_amount_decimal": amount,
             "lookup_key": key, **extra},
        )  # fmt: skip
    return ids


def system(base_url: str, **overrides: Any) -> StripeSystem:
    entry: dict[str, Any] = {
        "kind": "stripe",
        "base_url": base_url,
        "credentials": {"api_key": {"env": "STRIPE_API_KEY"}},
        "retry": {"max_attempts": 10, "base_delay_s": 0.02, "max_delay_s": 0.1},
        "rate_limit": {"requests_per_s": 1000, "burst": 1000, "max_concurrency": 10},
        "options": {"api_version": API_VERSION},
    }
    entry.update(overrides)
    return StripeSystem.model_validate(entry)


@pytest.fixture
def billing(base_url: str, prices: dict[str, str]) -> StripeBilling:
    return build("stripe", system(base_url), ENV)


def run(billing: StripeBilling, scenario: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await scenario()
        finally:
            await billing.aclose()

    return asyncio.run(main())


def calls(billing: StripeBilling) -> list[CallRecord]:
    records: list[CallRecord] = []
    billing.client.http.observers.append(records.append)
    return records


def state(control: httpx.Client) -> dict[str, Any]:
    response = control.get("/_sandbox/state")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def counts(control: httpx.Client) -> dict[str, int]:
    snapshot = state(control)
    return {name: len(snapshot[name]) for name in ("customers", "subscriptions", "invoiceitems")}


async def until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def gbp(amount: str) -> Money:
    return Money.of(amount, "GBP")


def uk_order(
    start: date = date(2025, 1, 1), lines: dict[str, OrderLine | None] | None = None
) -> Order:
    """An annual platform subscription, implementation at list price and an API add-on."""
    default = {
        "1": OrderLine.priced(line_id="1", sku="SUB-PLATFORM-ANNUAL",
                              kind=ProductKind.SUBSCRIPTION, quantity=1,
                              unit_price=gbp("9600.00"), description="Platform, 12 months"),
        "2": OrderLine.priced(line_id="2", sku="SVC-IMPLEMENTATION", kind=ProductKind.SERVICE,
                              quantity=1, unit_price=gbp("12000.00"),
                              description="Implementation"),
        "3": OrderLine.priced(line_id="3", sku="USG-API-CALLS", kind=ProductKind.USAGE,
                              quantity=100_000, unit_price=gbp("0.0016")),
    }  # fmt: skip
    chosen = {**default, **(lines or {})}
    return Order(
        order_id="ord_uk_0001",
        source=OPPORTUNITY,
        customer=uk_child_customer(),
        legal_entity="UK01",
        currency="GBP",
        lines=tuple(line for line in chosen.values() if line is not None),
        contract=Contract(
            start_date=start,
            end_date=date(start.year + 1, start.month, start.day),
            term_months=12,
            billing_frequency=BillingFrequency.ANNUAL,
        ),
        correlation_id=CORRELATION_ID,
    )


def uk_plan(
    order: Order | None = None, mappings: dict[str, LineMapping] | None = None
) -> OrderPlan:
    order = order or uk_order()
    lines = {**LINES, **(mappings or {})}
    return OrderPlan(
        order=order,
        hierarchy=(order.customer,),
        entity=UK,
        lines={line.line_id: lines[line.line_id] for line in order.lines},
    )


async def book(
    billing: StripeBilling, plan: OrderPlan
) -> tuple[ExternalRef, ExternalRef | None, tuple[ExternalRef, ...]]:
    customer = await billing.ensure_customer(plan.order.customer, plan.entity)
    subscription = await billing.start_subscription(plan, customer)
    items = await billing.add_invoice_items(plan, customer)
    return customer, subscription, items


def assert_no_secret(error: ConnectorError) -> None:
    for text in (str(error), json.dumps(error.request), json.dumps(error.response)):
        assert DEFAULT_API_KEY not in text


# -- booking a deal -----------------------------------------------------------------------------


def test_uk_deal_books_one_customer_one_subscription_and_one_invoice_item(
    billing: StripeBilling, control: httpx.Client, prices: dict[str, str]
) -> None:
    customer, subscription, items = run(billing, lambda: book(billing, uk_plan()))

    snapshot = state(control)
    [stripe_customer] = snapshot["customers"]
    assert stripe_customer["id"] == customer.id
    assert customer.system == "stripe"
    assert stripe_customer["name"] == "Northwind Trading Ltd"
    assert stripe_customer["metadata"] == {
        "revbridge_customer_id": "cus_northwind_uk",
        "legal_entity": "UK01",
    }
    assert stripe_customer["address"] == {
        "line1": "20 Eastbourne Terrace", "line2": "Floor 4", "city": "London",
        "state": None, "postal_code": "W2 6LG", "country": "GB",
    }  # fmt: skip
    assert stripe_customer["tax_exempt"] == "none"

    [sub] = snapshot["subscriptions"]
    assert subscription is not None
    assert sub["id"] == subscription.id
    assert sub["customer"] == customer.id
    assert sub["collection_method"] == "send_invoice"
    assert sub["days_until_due"] == 30
    assert sub["metadata"] == {
        "revbridge_order_id": "ord_uk_0001",
        "crm_opportunity": OPPORTUNITY.id,
        "revbridge_customer_id": "cus_northwind_uk",
        "correlation_id": CORRELATION_ID,
    }
    sub_items = {i["_price"]: i for i in snapshot["subscription_items"]}
    assert sub_items.keys() == {prices["sub-platform-annual_gbp"], prices["usg-api-calls_gbp"]}
    assert sub_items[prices["sub-platform-annual_gbp"]]["quantity"] == 1
    assert sub_items[prices["usg-api-calls_gbp"]]["quantity"] is None  # metered
    assert sub_items[prices["usg-api-calls_gbp"]]["metadata"] == {"revbridge_line_id": "3"}

    [item] = snapshot["invoiceitems"]
    assert items == (ExternalRef(system="stripe", id=item["id"]),)
    assert item["pricing"]["price_details"]["price"] == prices["svc-implementation_gbp"]
    assert item["amount"] == 1_200_000
    assert item["currency"] == "gbp"
    assert item["metadata"] == {
        "revbridge_order_id": "ord_uk_0001",
        "revbridge_line_id": "2",
        "correlation_id": CORRELATION_ID,
    }


def test_booking_the_deal_twice_creates_nothing_new(
    billing: StripeBilling, control: httpx.Client
) -> None:
    seen = calls(billing)

    async def twice() -> tuple[Any, Any]:
        first = await book(billing, uk_plan())
        return first, await book(billing, uk_plan())

    first, second = run(billing, twice)

    assert first == second
    assert counts(control) == {"customers": 1, "subscriptions": 1, "invoiceitems": 1}
    operations = [c.operation for c in seen]
    assert operations.count("prices.list") == 1  # reference data is cached
    assert operations.count("customers.create") == 1
    assert operations.count("subscriptions.create") == 1


def test_objects_are_found_again_after_idempotency_keys_expire(
    billing: StripeBilling, control: httpx.Client
) -> None:
    seen = calls(billing)

    async def scenario() -> tuple[Any, Any, Any, Any]:
        customer = await billing.ensure_customer(uk_child_customer(), UK)
        subscription = await billing.start_subscription(uk_plan(), customer)
        advance = {"seconds": 90_000}
        await asyncio.to_thread(control.post, "/_sandbox/clock/advance", json=advance)
        again = await billing.ensure_customer(uk_child_customer(), UK)
        return customer, subscription, again, await billing.start_subscription(uk_plan(), again)

    customer, subscription, again, second = run(billing, scenario)

    assert (again, second) == (customer, subscription)
    assert counts(control)["customers"] == 1
    assert counts(control)["subscriptions"] == 1
    operations = [c.operation for c in seen]
    assert operations.count("customers.create") == operations.count("subscriptions.create") == 1


def test_customer_details_that_changed_are_updated_in_place(
    billing: StripeBilling, control: httpx.Client
) -> None:
    moved = uk_child_customer().model_copy(
        update={
            "name": "Northwind Trading (UK) Ltd",
            "billing_address": uk_child_customer().billing_address.model_copy(  # type: ignore[union-attr]
                update={"line1": "1 Canada Square", "line2": None, "postal_code": "E14 5AB"}
            ),
        }
    )

    async def scenario() -> tuple[ExternalRef, ExternalRef, ExternalRef]:
        first = await billing.ensure_customer(uk_child_customer(), UK)
        return (
            first,
            await billing.ensure_customer(moved, UK),
            await billing.ensure_customer(moved, UK),
        )

    first, second, third = run(billing, scenario)

    assert first == second == third
    [customer] = state(control)["customers"]
    assert customer["name"] == "Northwind Trading (UK) Ltd"
    assert customer["address"]["line1"] == "1 Canada Square"
    assert customer["address"]["line2"] is None
    assert customer["address"]["postal_code"] == "E14 5AB"


def test_exempt_customer_is_tax_exempt_in_stripe(
    billing: StripeBilling, control: httpx.Client
) -> None:
    exempt = uk_child_customer().model_copy(
        update={"tax_exemption": TaxExemption(reason="Charity", jurisdictions=("GB",))}
    )

    run(billing, lambda: billing.ensure_customer(exempt, UK))

    assert state(control)["customers"][0]["tax_exempt"] == "exempt"


def test_contract_starting_later_anchors_the_billing_cycle_on_its_start(
    billing: StripeBilling, control: httpx.Client
) -> None:
    start = date(datetime.now(UTC).year + 1, 1, 1)
    plan = uk_plan(uk_order(start=start))

    run(billing, lambda: book(billing, plan))

    [sub] = state(control)["subscriptions"]
    assert sub["billing_cycle_anchor"] == int(datetime(start.year, 1, 1, tzinfo=UTC).timestamp())


def test_plan_without_recurring_or_service_lines_creates_nothing(
    billing: StripeBilling, control: httpx.Client
) -> None:
    only_service = uk_plan(uk_order(lines={"1": None, "3": None}))
    only_subscription = uk_plan(uk_order(lines={"2": None}))

    async def scenario() -> tuple[Any, Any]:
        customer = await billing.ensure_customer(uk_child_customer(), UK)
        return (
            await billing.start_subscription(only_service, customer),
            await billing.add_invoice_items(only_subscription, customer),
        )

    assert run(billing, scenario) == (None, ())
    assert counts(control) == {"customers": 1, "subscriptions": 0, "invoiceitems": 0}


def test_negotiated_service_amount_is_billed_as_the_line_amount(
    billing: StripeBilling, control: httpx.Client
) -> None:
    discounted = OrderLine.priced(
        line_id="2", sku="SVC-IMPLEMENTATION", kind=ProductKind.SERVICE, quantity=1,
        unit_price=gbp("12000.00"), discount=gbp("1999.99"),
    )  # fmt: skip

    run(billing, lambda: book(billing, uk_plan(uk_order(lines={"2": discounted}))))

    [item] = state(control)["invoiceitems"]
    assert item["amount"] == 1_000_001
    assert item["currency"] == "gbp"
    assert item["pricing"]["price_details"] is None


def test_pinned_api_version_chooses_the_invoice_item_price_parameter() -> None:
    plan = uk_plan()
    line = plan.order.lines[1]
    price = {"id": "price_1", "type": "one_time", "currency": "gbp",
             "unit_amount_decimal": "1200000", "billing_scheme": "per_unit"}  # fmt: skip

    current = mapping.invoice_item_params(plan, line, "cus_1", price, "2026-06-24.dahlia")
    legacy = mapping.invoice_item_params(plan, line, "cus_1", price, "2024-06-20")

    assert current["pricing"] == {"price": "price_1"}
    assert "price" not in current
    assert legacy["price"] == "price_1"
    assert "pricing" not in legacy


def test_legacy_api_version_books_the_deal(
    base_url: str, control: httpx.Client, prices: dict[str, str]
) -> None:
    billing = build("stripe", system(base_url, options={"api_version": "2024-06-20"}), ENV)

    run(billing, lambda: book(billing, uk_plan()))

    [item] = state(control)["invoiceitems"]
    assert item["pricing"]["price_details"]["price"] == prices["svc-implementation_gbp"]


def test_mixed_intervals_need_an_api_version_that_allows_them(
    base_url: str, control: httpx.Client
) -> None:
    control.post("/_sandbox/reset").raise_for_status()
    seed_catalog(control, usage_interval="month")
    billing = build("stripe", system(base_url, options={"api_version": "2024-06-20"}), ENV)

    async def scenario() -> Any:
        customer = await billing.ensure_customer(uk_child_customer(), UK)
        return await billing.start_subscription(uk_plan(), customer)

    with pytest.raises(DataError) as caught:
        run(billing, scenario)

    assert caught.value.code == "mixed_intervals"
    assert "2025-07-30" in str(caught.value)
    assert counts(control)["subscriptions"] == 0


# -- commit, then the answer is lost ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "table"),
    [
        ("/v1/customers", "customers"),
        ("/v1/subscriptions", "subscriptions"),
        ("/v1/invoiceitems", "invoiceitems"),
    ],
)
def test_create_whose_answer_is_lost_after_commit_leaves_one_object(
    billing: StripeBilling, sandbox: Sandbox, control: httpx.Client, path: str, table: str
) -> None:
    rule = {"method": "POST", "path": path, "commit_then_drop_rate": 1.0}
    rows = sandbox.state.tables[table].rows  # type: ignore[attr-defined]
    seen = calls(billing)

    async def scenario() -> Any:
        await asyncio.to_thread(control.put, "/_sandbox/faults", json={"rules": [rule]})
        task = asyncio.create_task(book(billing, uk_plan()))
        await until(lambda: bool(rows) or task.done())
        await asyncio.to_thread(control.put, "/_sandbox/faults", json={})
        return await task

    first = run(billing, scenario)
    second = run(billing, lambda: book(billing, uk_plan()))

    assert first == second
    assert counts(control) == {"customers": 1, "subscriptions": 1, "invoiceitems": 1}
    assert sandbox.injector.counts["commit_then_drop"] >= 1
    assert any(c.outcome == "retryable" for c in seen)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_injected_error_burst_is_retried_until_the_deal_is_booked(
    billing: StripeBilling, sandbox: Sandbox, control: httpx.Client, status: int
) -> None:
    rule = {"path": "/v1/*", "errors": {str(status): 1.0}}
    seen = calls(billing)

    async def scenario() -> Any:
        await asyncio.to_thread(control.put, "/_sandbox/faults", json={"rules": [rule]})
        task = asyncio.create_task(book(billing, uk_plan()))
        await until(lambda: sandbox.injector.counts[f"error_{status}"] >= 3 or task.done())
        await asyncio.to_thread(control.put, "/_sandbox/faults", json={})
        return await task

    _, subscription, items = run(billing, scenario)

    assert counts(control) == {"customers": 1, "subscriptions": 1, "invoiceitems": 1}
    assert subscription is not None
    assert len(items) == 1
    assert sum(1 for c in seen if c.outcome == "retryable") >= 3


# -- errors -------------------------------------------------------------------------------------


def test_unknown_price_lookup_key_is_a_data_error_naming_it(
    billing: StripeBilling, control: httpx.Client
) -> None:
    typo = LINES["1"].model_copy(update={"price_lookup_key": "sub-platfrom-annual"})

    async def scenario() -> Any:
        customer = await billing.ensure_customer(uk_child_customer(), UK)
        return await billing.start_subscription(uk_plan(mappings={"1": typo}), customer)

    with pytest.raises(DataError) as caught:
        run(billing, scenario)

    assert "sub-platfrom-annual_gbp" in str(caught.value)
    assert "SUB-PLATFORM-ANNUAL" in str(caught.value)
    assert caught.value.system == "stripe"
    assert counts(control)["subscriptions"] == 0


def test_stripe_validation_error_is_a_data_error_with_redacted_exchange(
    billing: StripeBilling, control: httpx.Client
) -> None:
    one_time = LINES["1"].model_copy(update={"price_lookup_key": "svc-implementation"})

    async def scenario() -> Any:
        customer = await billing.ensure_customer(uk_child_customer(), UK)
        return await billing.start_subscription(uk_plan(mappings={"1": one_time}), customer)

    with pytest.raises(DataError) as caught:
        run(billing, scenario)

    error = caught.value
    assert error.status == 400
    assert error.code == "invalid_request_error"
    assert "items[0][price]" in str(error)
    assert error.request["method"] == "POST"
    assert error.request["headers"]["authorization"] == "***"
    assert error.request["headers"]["idempotency-key"] == "subscription:ord_uk_0001"
    assert error.response["body"]["error"]["param"] == "items[0][price]"
    assert error.response["headers"]["stripe-version"] == API_VERSION
    assert_no_secret(error)


def test_wrong_api_key_is_an_auth_error_that_names_no_key(base_url: str) -> None:
    wrong = "sk_test_not_the_right_key_4242"
    billing = build("stripe", system(base_url), {"STRIPE_API_KEY": wrong})

    with pytest.raises(AuthError) as caught:
        run(billing, lambda: billing.ensure_customer(uk_child_customer(), UK))

    for text in (str(caught.value), json.dumps(caught.value.request),
                 json.dumps(caught.value.response)):  # fmt: skip
        assert wrong not in text
    assert caught.value.status == 401


def test_cancelling_twice_leaves_one_canceled_subscription(
    billing: StripeBilling, control: httpx.Client
) -> None:
    async def scenario() -> ExternalRef | None:
        customer = await billing.ensure_customer(uk_child_customer(), UK)
        subscription = await billing.start_subscription(uk_plan(), customer)
        assert subscription is not None
        await billing.cancel_subscription(subscription)
        await billing.cancel_subscription(subscription)
        return subscription

    subscription = run(billing, scenario)

    [sub] = state(control)["subscriptions"]
    assert sub["id"] == subscription.id  # type: ignore[union-attr]
    assert sub["status"] == "canceled"


def test_order_whose_subscription_was_canceled_is_not_started_again(
    billing: StripeBilling, control: httpx.Client
) -> None:
    async def scenario() -> Any:
        customer = await billing.ensure_customer(uk_child_customer(), UK)
        subscription = await billing.start_subscription(uk_plan(), customer)
        assert subscription is not None
        await billing.cancel_subscription(subscription)
        return await billing.start_subscription(uk_plan(), customer)

    with pytest.raises(ConflictError) as caught:
        run(billing, scenario)

    assert caught.value.code == "subscription_ended"
    assert counts(control)["subscriptions"] == 1


def test_cancelling_an_unknown_subscription_is_not_found(billing: StripeBilling) -> None:
    missing = ExternalRef(system="stripe", id="sub_doesnotexist")

    with pytest.raises(NotFoundError) as caught:
        run(billing, lambda: billing.cancel_subscription(missing))

    assert caught.value.code == "resource_missing"
    assert_no_secret(caught.value)


def stripe_error(
    status: int, error: dict[str, str], headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json={"error": error}, headers=headers)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (stripe_error(400, {"type": "idempotency_error", "message": "other parameters"}),
         ConflictError),
        (stripe_error(409, {"type": "idempotency_error", "code": "idempotency_key_in_use",
                            "message": "in progress"}), RetryableError),
        (stripe_error(400, {"type": "invalid_request_error", "code": "rate_limit",
                            "message": "slow down"}), RateLimitedError),
        (stripe_error(402, {"type": "card_error", "code": "card_declined",
                            "message": "declined"}), DataError),
        (stripe_error(403, {"type": "invalid_request_error", "message": "no permission"}),
         AuthError),
        (stripe_error(500, {"type": "api_error", "message": "saved failure"},
                      {"Stripe-Should-Retry": "false"}), PermanentError),
        (stripe_error(400, {"type": "invalid_request_error", "message": "try again"},
                      {"Stripe-Should-Retry": "true"}), RetryableError),
    ],
)  # fmt: skip
def test_stripe_answers_map_onto_the_error_tree(
    response: httpx.Response, expected: type[ConnectorError]
) -> None:
    error = classify(response)

    assert type(error) is expected


def test_concurrent_requests_for_one_customer_create_one() -> None:
    slow = create_app(execution_delay_s=0.2)
    with serve(slow) as url:
        billing = build("stripe", system(url), ENV)
        seen = calls(billing)

        async def scenario() -> list[ExternalRef]:
            ensure = billing.ensure_customer(uk_child_customer(), UK)
            return list(
                await asyncio.gather(ensure, billing.ensure_customer(uk_child_customer(), UK))
            )

        first, second = run(billing, scenario)

        assert first == second
        assert len(slow.state.customers.rows) == 1  # type: ignore[attr-defined]
        assert any(c.status == 409 and c.outcome == "retryable" for c in seen)


# -- rate budget --------------------------------------------------------------------------------


def test_policy_rate_budget_keeps_every_request_under_stripes_limit() -> None:
    limited = create_app(rate_limit_per_s=25)
    with serve(limited) as url:
        # The example policy's Stripe budget: 25 requests/s with a burst of 50.
        budget = {"requests_per_s": 25, "burst": 50, "max_concurrency": 25}
        billing = build("stripe", system(url, rate_limit=budget), ENV)
        seen = calls(billing)
        customers = [
            uk_child_customer().model_copy(update={"customer_id": f"cus_rate_{n:02d}"})
            for n in range(20)
        ]

        async def scenario() -> list[ExternalRef]:
            return list(await asyncio.gather(*(billing.ensure_customer(c, UK) for c in customers)))

        refs = run(billing, scenario)

        assert len(set(refs)) == 20
        assert len(seen) == 40  # a search and a create each, none repeated
        assert [c.status for c in seen if c.status == 429] == []
        headers = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
        with httpx.Client(base_url=url, headers=headers) as http:
            statuses = [http.get("/v1/customers").status_code for _ in range(40)]
        assert 429 in statuses  # the limiter is on: an unbudgeted burst is refused
