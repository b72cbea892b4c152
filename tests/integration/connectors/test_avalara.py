"""AvalaraTax against the AvaTax sandbox over HTTP: quotes, retries, voids and errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from revbridge.canonical import (
    Address,
    Customer,
    ExternalRef,
    Money,
    Order,
    OrderLine,
    ProductKind,
    TaxExemption,
)
from revbridge.config.systems import AvalaraSystem
from revbridge.connectors.avalara import AvalaraTax, build
from revbridge.connectors.avalara.mapping import document_code, fit, json_number
from revbridge.connectors.http import CallRecord
from revbridge.errors import AuthError, ConfigError, ConnectorError, DataError, RetryableError
from revbridge.ports import EntityContext, LineMapping, OrderPlan, TaxQuote
from revbridge.testing.contracts.billed import billed_in_full
from revbridge.testing.factories import (
    CORRELATION_ID,
    OPPORTUNITY,
    parent_customer,
    uk_subscription_order,
)
from revbridge.testing.servers import serve
from revbridge_sandboxes.avalara import create_app

T = TypeVar("T")
ACCOUNT_ID, LICENSE_KEY = "2000134479", "4D0F3A5B2C1E9F87"
ENV = {
    "AVATAX_ACCOUNT_ID": ACCOUNT_ID,
    "AVATAX_LICENSE_KEY": LICENSE_KEY,
    "AVATAX_BEARER": "sandbox-bearer-token",
    "AVATAX_WRONG_KEY": "0000WRONGLICENSE",
}
BASIC = {"account_id": {"env": "AVATAX_ACCOUNT_ID"}, "license_key": {"env": "AVATAX_LICENSE_KEY"}}
FAST_RETRY = {"max_attempts": 6, "base_delay_s": 0.01, "max_delay_s": 0.2}
CREATE_OR_ADJUST = "/api/v2/transactions/createoradjust"
UK = EntityContext(
    code="ACME-UK",
    name="Acme Cloud Ltd",
    country="GB",
    currency="GBP",
    erp_subsidiary="3",
    tax_company_code="ACME-UK",
)
US = EntityContext(
    code="ACME-US",
    name="Acme Cloud Inc.",
    country="US",
    currency="USD",
    erp_subsidiary="2",
    tax_company_code="ACME-US",
)
LINES = {
    "1": LineMapping(
        sku="PLAT-ANNUAL",
        kind="subscription",
        erp_item="item-101",
        price_lookup_key="plat_annual",
        interval="year",
        tax_code="SW054000",
    ),
    "2": LineMapping(
        sku="IMPL-STD",
        kind="service",
        erp_item="item-201",
        price_lookup_key="impl_std",
        tax_code="SC070000",
    ),
    "3": LineMapping(
        sku="API-CALLS",
        kind="usage",
        erp_item="item-301",
        price_lookup_key="api_calls",
        interval="month",
        usage_type="metered",
        tax_code="SW050000",
    ),
}


# -- fixtures and builders ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def avalara_sandbox() -> Iterator[str]:
    with serve(create_app()) as url:
        yield url


@pytest.fixture
def sandbox(avalara_sandbox: str) -> Iterator[str]:
    httpx.post(f"{avalara_sandbox}/_sandbox/reset")
    yield avalara_sandbox
    httpx.post(f"{avalara_sandbox}/_sandbox/reset")


def system(base_url: str, **overrides: Any) -> AvalaraSystem:
    fields: dict[str, Any] = {
        "kind": "avalara",
        "base_url": base_url,
        "credentials": BASIC,
        "retry": FAST_RETRY,
    }
    return AvalaraSystem.model_validate({**fields, **overrides})


def run(adapter: AvalaraTax, scenario: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await scenario()
        finally:
            await adapter.aclose()

    return asyncio.run(main())


def state(base_url: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{base_url}/_sandbox/state").json()
    return body


def set_faults(base_url: str, *rules: dict[str, Any], seed: int = 1) -> None:
    response = httpx.put(f"{base_url}/_sandbox/faults", json={"seed": seed, "rules": list(rules)})
    assert response.status_code == 200, response.text


def clear_faults_after_a_failure(base_url: str) -> Callable[[CallRecord], None]:
    """An observer that lifts the faults once an attempt failed, before the retry."""

    def observe(record: CallRecord) -> None:
        if record.outcome != "ok":
            httpx.put(f"{base_url}/_sandbox/faults", json={})

    return observe


def uk_plan(**order_changes: Any) -> OrderPlan:
    order = uk_subscription_order(taxed=False).model_copy(update=order_changes)
    return OrderPlan(
        order=order, hierarchy=(parent_customer(), order.customer), entity=UK, lines=LINES
    )


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def us_plan(customer: Customer, order_id: str = "ord_us_0001") -> OrderPlan:
    """The UK order's three lines, priced in USD, sold by the US entity to ``customer``."""
    lines = (
        OrderLine.priced(
            line_id="1",
            sku="PLAT-ANNUAL",
            kind=ProductKind.SUBSCRIPTION,
            quantity=1,
            unit_price=usd("12000.00"),
        ),
        OrderLine.priced(
            line_id="2",
            sku="IMPL-STD",
            kind=ProductKind.SERVICE,
            quantity=1,
            unit_price=usd("4500.00"),
            discount=usd("500.00"),
        ),
        OrderLine.priced(
            line_id="3",
            sku="API-CALLS",
            kind=ProductKind.USAGE,
            quantity=100_000,
            unit_price=usd("0.0125"),
        ),
    )
    order = Order(
        order_id=order_id,
        source=OPPORTUNITY,
        customer=customer,
        legal_entity="ACME-US",
        currency="USD",
        lines=lines,
        contract=uk_subscription_order().contract,
        correlation_id=CORRELATION_ID,
    )
    return OrderPlan(order=order, hierarchy=(customer,), entity=US, lines=LINES)


def customer_at(address: Address, currency: str = "USD", **fields: Any) -> Customer:
    return Customer(
        customer_id="cus_elsewhere",
        name="Elsewhere Corp",
        billing_address=address,
        currency=currency,
        **fields,
    )


def document(base_url: str) -> dict[str, Any]:
    (current,) = state(base_url)["transactions"]
    result: dict[str, Any] = current
    return result


def assert_no_secret(error: ConnectorError, *secrets: str) -> None:
    for text in (str(error), repr(error.request), repr(error.response)):
        for secret in secrets:
            assert secret not in text


# -- quotes -----------------------------------------------------------------------------------


def test_uk_subscription_is_taxed_at_20_percent_vat_per_line(sandbox: str) -> None:
    adapter = build("avalara", system(sandbox), ENV)
    quote = run(adapter, lambda: adapter.quote_tax(uk_plan()))

    assert quote == TaxQuote(
        document=ExternalRef(system="avalara", id="tax:ord_uk_0001"),
        total_tax=Money.of("3450.00", "GBP"),
        line_tax={
            "1": Money.of("2400.00", "GBP"),
            "2": Money.of("800.00", "GBP"),
            "3": Money.of("250.00", "GBP"),
        },
    )
    recorded = document(sandbox)
    assert (recorded["code"], recorded["type"], recorded["status"]) == (
        "tax:ord_uk_0001",
        "SalesInvoice",
        "Saved",  # recorded, not committed: the ERP has not accepted the order yet
    )
    assert (recorded["customerCode"], recorded["currencyCode"]) == ("cus_northwind_uk", "GBP")
    assert recorded["date"] == "2025-01-01"
    assert [line["lineAmount"] for line in recorded["lines"]] == [12000, 4000, 1250]
    assert [line["taxCode"] for line in recorded["lines"]] == ["SW054000", "SC070000", "SW050000"]


def test_new_york_customer_pays_state_and_local_tax(sandbox: str) -> None:
    adapter = build("avalara", system(sandbox), ENV)
    quote = run(adapter, lambda: adapter.quote_tax(us_plan(parent_customer())))

    # 8.875 % = NY state 4 % + New York City 4.5 % + MCTD 0.375 %; services are not taxed.
    assert quote.line_tax == {"1": usd("1065.00"), "2": usd("0.00"), "3": usd("110.94")}
    assert quote.total_tax == usd("1175.94")
    saas = document(sandbox)["lines"][0]
    assert {d["jurisType"] for d in saas["details"]} == {"STA", "CIT", "STJ"}


def test_configured_origin_is_where_the_sale_ships_from(sandbox: str) -> None:
    origin = Address(
        line1="100 Ravine Lane NE",
        city="Bainbridge Island",
        region="WA",
        postal_code="98110",
        country="US",
    )
    adapter = build("avalara", system(sandbox), ENV, origins={"ACME-US": origin})
    quote = run(adapter, lambda: adapter.quote_tax(us_plan(parent_customer())))

    assert quote.total_tax == usd("1175.94")  # interstate: sourced at the destination
    lines = {a["line1"] for a in document(sandbox)["addresses"]}
    assert lines == {"100 Ravine Lane NE", "350 Fifth Avenue"}


def test_exempt_customer_is_not_taxed_where_the_exemption_applies(sandbox: str) -> None:
    exemption = TaxExemption(reason="Resale", certificate_id="NY-RESALE-0042")
    exempt = parent_customer().model_copy(update={"tax_exemption": exemption})
    adapter = build("avalara", system(sandbox), ENV)
    quote = run(adapter, lambda: adapter.quote_tax(us_plan(exempt)))

    assert quote.total_tax == usd("0")
    assert document(sandbox)["exemptNo"] == "NY-RESALE-0042"


def test_exemption_elsewhere_or_expired_does_not_apply(sandbox: str) -> None:
    exemptions = (
        TaxExemption(reason="Resale", certificate_id="CA-1", jurisdictions=("US-CA",)),
        TaxExemption(reason="Resale", certificate_id="NY-1", expires_on=date(2024, 12, 31)),
    )
    adapter = build("avalara", system(sandbox), ENV)

    async def quote_each() -> list[TaxQuote]:
        return [
            await adapter.quote_tax(
                us_plan(parent_customer().model_copy(update={"tax_exemption": exemption}))
            )
            for exemption in exemptions
        ]

    quotes = run(adapter, quote_each)
    assert [q.total_tax for q in quotes] == [usd("1175.94"), usd("1175.94")]
    assert document(sandbox)["exemptNo"] == ""


def test_sales_order_type_is_an_estimate_nothing_is_recorded(sandbox: str) -> None:
    adapter = build("avalara", system(sandbox, options={"document_type": "SalesOrder"}), ENV)

    async def quote_then_void() -> TaxQuote:
        quote = await adapter.quote_tax(uk_plan())
        await adapter.void_tax(quote.document, UK)
        return quote

    quote = run(adapter, quote_then_void)
    assert quote.total_tax == Money.of("3450.00", "GBP")
    assert state(sandbox)["counts"] == {"transactions": 0, "history": 0}


# -- idempotency ------------------------------------------------------------------------------


def test_quoting_twice_keeps_one_current_document(sandbox: str) -> None:
    adapter = build("avalara", system(sandbox), ENV)

    async def twice() -> tuple[TaxQuote, TaxQuote]:
        return await adapter.quote_tax(uk_plan()), await adapter.quote_tax(uk_plan())

    first, second = run(adapter, twice)
    assert first == second
    snapshot = state(sandbox)
    assert snapshot["counts"] == {"transactions": 1, "history": 1}
    assert snapshot["history"][0]["status"] == "Adjusted"
    assert document(sandbox)["version"] == 2


def test_lost_answer_then_retry_leaves_one_document(sandbox: str) -> None:
    adapter = build("avalara", system(sandbox), ENV)
    adapter.client.http.observers.append(clear_faults_after_a_failure(sandbox))
    set_faults(sandbox, {"path": CREATE_OR_ADJUST, "commit_then_drop_rate": 1.0})

    quote = run(adapter, lambda: adapter.quote_tax(uk_plan()))

    assert quote.total_tax == Money.of("3450.00", "GBP")
    snapshot = state(sandbox)
    assert snapshot["_faults"] == {"commit_then_drop": 1}
    assert snapshot["counts"]["transactions"] == 1
    assert document(sandbox)["code"] == "tax:ord_uk_0001"


def test_long_and_special_order_ids_make_valid_codes_that_void(sandbox: str) -> None:
    order_id = "opp/2025:Q1@" + "x" * 60
    adapter = build("avalara", system(sandbox), ENV)

    async def quote_and_void() -> TaxQuote:
        quote = await adapter.quote_tax(uk_plan(order_id=order_id))
        await adapter.void_tax(quote.document, UK)
        return quote

    quote = run(adapter, quote_and_void)
    assert quote.document.id == document_code(order_id)
    assert len(quote.document.id) == 50
    assert document(sandbox)["status"] == "Cancelled"


def test_void_is_idempotent(sandbox: str) -> None:
    adapter = build("avalara", system(sandbox), ENV)

    async def quote_void_void() -> None:
        quote = await adapter.quote_tax(uk_plan())
        await adapter.void_tax(quote.document, UK)
        await adapter.void_tax(quote.document, UK)

    run(adapter, quote_void_void)
    assert document(sandbox)["status"] == "Cancelled"


def test_void_whose_answer_was_lost_succeeds_on_retry(sandbox: str) -> None:
    adapter = build("avalara", system(sandbox), ENV)
    adapter.client.http.observers.append(clear_faults_after_a_failure(sandbox))

    async def quote_then_void() -> None:
        quote = await adapter.quote_tax(uk_plan())
        set_faults(sandbox, {"path": "*/void", "commit_then_drop_rate": 1.0})
        await adapter.void_tax(quote.document, UK)

    run(adapter, quote_then_void)
    assert state(sandbox)["_faults"] == {"commit_then_drop": 1}
    assert document(sandbox)["status"] == "Cancelled"


def test_an_invoice_is_its_own_document_committed_only_when_the_policy_commits(
    sandbox: str,
) -> None:
    """Each posted invoice: one document ``inv:<id>`` with the invoice's tax per line,
    committed (or left saved); sent again, still one document; the order's quote stays."""
    committing = build("avalara", system(sandbox), ENV)
    keeping = build("avalara", system(sandbox, options={"commit_documents": False}), ENV)
    plan = uk_plan()
    invoices = [billed_in_full(plan, name) for name in ("in_kept", "in_committed")]

    async def post() -> tuple[TaxQuote, TaxQuote, TaxQuote]:
        await committing.quote_tax(plan)
        kept = await keeping.invoice_tax(plan, invoices[0])
        committed = await committing.invoice_tax(plan, invoices[1])
        again = await committing.invoice_tax(plan, invoices[1])
        await keeping.aclose()
        return kept, committed, again

    kept, committed, again = run(committing, post)

    documents = {t["code"]: t for t in state(sandbox)["transactions"]}
    assert documents["tax:ord_uk_0001"]["status"] == "Saved"
    assert documents[kept.document.id]["status"] == "Saved"
    assert documents[committed.document.id]["status"] == "Committed"
    assert len(documents) == 3
    assert again == committed
    assert committed.total_tax == Money.total(committed.line_tax.values(), "GBP")
    assert committed.total_tax.amount == Decimal(str(documents[committed.document.id]["totalTax"]))


# -- errors -----------------------------------------------------------------------------------


def test_unknown_jurisdiction_is_a_data_error_with_the_avatax_answer(sandbox: str) -> None:
    tokyo = Address(line1="1-1 Marunouchi", city="Tokyo", postal_code="100-0005", country="JP")
    plan = uk_plan(customer=customer_at(tokyo, currency="GBP"))
    adapter = build("avalara", system(sandbox), ENV)

    with pytest.raises(DataError) as caught:
        run(adapter, lambda: adapter.quote_tax(plan))

    error = caught.value
    assert (error.code, error.status, error.system) == ("JurisdictionNotFoundError", 400, "avalara")
    assert error.response["body"]["error"]["code"] == "JurisdictionNotFoundError"
    assert error.request["body"]["createTransactionModel"]["code"] == "tax:ord_uk_0001"
    assert "JP" in str(error)
    assert_no_secret(error, LICENSE_KEY)
    assert state(sandbox)["counts"]["transactions"] == 0


def test_incomplete_address_is_an_invalid_address_data_error(sandbox: str) -> None:
    nowhere = Address(line1="1 Main Street", city="Springfield", country="US")
    adapter = build("avalara", system(sandbox), ENV)

    with pytest.raises(DataError) as caught:
        run(adapter, lambda: adapter.quote_tax(us_plan(customer_at(nowhere))))

    assert caught.value.code == "InvalidAddress"
    assert caught.value.response["body"]["error"]["details"][0]["number"] == 309


def test_customer_without_address_is_a_missing_address_data_error(sandbox: str) -> None:
    homeless = Customer(customer_id="cus_x", name="No Address Ltd", currency="GBP")
    adapter = build("avalara", system(sandbox), ENV)

    with pytest.raises(DataError) as caught:
        run(adapter, lambda: adapter.quote_tax(uk_plan(customer=homeless)))

    assert caught.value.code == "MissingAddress"


def test_unknown_company_is_a_not_found_error(sandbox: str) -> None:
    plan = uk_plan().model_copy(
        update={"entity": UK.model_copy(update={"tax_company_code": "ACME-FR"})}
    )
    adapter = build("avalara", system(sandbox), ENV)

    with pytest.raises(ConnectorError) as caught:
        run(adapter, lambda: adapter.quote_tax(plan))

    assert (type(caught.value).__name__, caught.value.code) == (
        "NotFoundError",
        "EntityNotFoundError",
    )


def test_wrong_credentials_are_an_auth_error_without_the_secret(sandbox: str) -> None:
    wrong = {"account_id": {"env": "AVATAX_ACCOUNT_ID"}, "license_key": {"env": "AVATAX_WRONG_KEY"}}
    adapter = build("avalara", system(sandbox, credentials=wrong), ENV)

    with pytest.raises(AuthError) as caught:
        run(adapter, lambda: adapter.quote_tax(uk_plan()))

    assert caught.value.code == "AuthenticationException"
    assert caught.value.request["headers"]["authorization"] == "***"
    assert_no_secret(caught.value, ENV["AVATAX_WRONG_KEY"], LICENSE_KEY)


def test_bearer_token_authenticates(sandbox: str) -> None:
    bearer = {"bearer_token": {"env": "AVATAX_BEARER"}}
    adapter = build("avalara", system(sandbox, credentials=bearer), ENV)
    quote = run(adapter, lambda: adapter.quote_tax(uk_plan()))
    assert quote.total_tax == Money.of("3450.00", "GBP")


def test_injected_server_errors_are_retried(sandbox: str) -> None:
    set_faults(sandbox, {"path": "/api/v2/*", "errors": {"500": 0.6}}, seed=3)
    adapter = build("avalara", system(sandbox), ENV)
    quote = run(adapter, lambda: adapter.quote_tax(uk_plan()))

    assert quote.total_tax == Money.of("3450.00", "GBP")
    assert state(sandbox)["_faults"] == {"error_500": 3}
    assert state(sandbox)["counts"]["transactions"] == 1


def test_throttling_is_retried_after_the_announced_delay(sandbox: str) -> None:
    set_faults(sandbox, {"path": "/api/v2/*", "errors": {"429": 0.6}, "retry_after_s": 1})
    adapter = build("avalara", system(sandbox), ENV)
    started = time.monotonic()
    quote = run(adapter, lambda: adapter.quote_tax(uk_plan()))

    assert time.monotonic() - started >= 1.0
    assert quote.total_tax == Money.of("3450.00", "GBP")
    assert state(sandbox)["_faults"] == {"error_429": 1}


def test_server_errors_past_the_retry_budget_stay_retryable(sandbox: str) -> None:
    set_faults(sandbox, {"path": "/api/v2/*", "errors": {"503": 1.0}, "retry_after_s": 0})
    adapter = build("avalara", system(sandbox, retry={**FAST_RETRY, "max_attempts": 2}), ENV)

    with pytest.raises(RetryableError) as caught:
        run(adapter, lambda: adapter.quote_tax(uk_plan()))

    assert caught.value.code == "ServerUnreachable"


# -- factory and encoding ---------------------------------------------------------------------


def test_build_refuses_missing_or_partial_credentials(sandbox: str) -> None:
    with pytest.raises(ConfigError, match="AVATAX_LICENSE_KEY is not set"):
        build("avalara", system(sandbox), {"AVATAX_ACCOUNT_ID": ACCOUNT_ID})
    partial = {"account_id": {"env": "AVATAX_ACCOUNT_ID"}}
    with pytest.raises(ConfigError, match="account_id and license_key"):
        build("avalara", system(sandbox, credentials=partial), ENV)


def test_codes_fit_avatax_limits_deterministically() -> None:
    assert document_code("ord_uk_0001") == "tax:ord_uk_0001"
    long_id = "opp-" + "A" * 90
    assert document_code(long_id) == document_code(long_id)
    assert document_code(long_id) != document_code(long_id + "B")
    assert len(document_code(long_id)) == 50
    assert fit("x" * 50) == "x" * 50


def test_amounts_are_sent_as_exact_json_numbers() -> None:
    assert json_number(Decimal("12000.00")) == 12000
    assert isinstance(json_number(Decimal("12000.00")), int)
    assert repr(json_number(Decimal("0.0125"))) == "0.0125"
    assert repr(json_number(Decimal("1234567890.12"))) == "1234567890.12"
    with pytest.raises(DataError, match="exactly"):
        json_number(Decimal("0.12345678901234567890"))
