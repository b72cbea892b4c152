"""The official stripe SDK, changed only in its API base, works against the Stripe sandbox."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from revbridge.testing.servers import serve
from revbridge_sandboxes.faults import FaultConfig, FaultRule
from revbridge_sandboxes.stripe import DEFAULT_API_KEY, create_app

SECRET = "whsec_test_revbridge_receiver"


class Receiver:
    """A local webhook endpoint that records what it is sent."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        self.lock = threading.Lock()

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.deliveries.append((body, dict(request.headers)))
        return Response(status_code=200)


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[str, Receiver]]:
    hook = Receiver()
    app = Starlette(routes=[Route("/hook", hook.handle, methods=["POST"])])
    with serve(app) as url:
        yield f"{url}/hook", hook


@pytest.fixture(scope="module")
def sandbox_url(receiver: tuple[str, Receiver]) -> Iterator[str]:
    url, _ = receiver
    with serve(create_app(webhook_endpoints=[(url, SECRET)])) as base:
        yield base


@pytest.fixture
def base_url(sandbox_url: str, receiver: tuple[str, Receiver]) -> str:
    httpx.post(f"{sandbox_url}/_sandbox/reset").raise_for_status()
    receiver[1].deliveries.clear()
    return sandbox_url


@pytest.fixture
def client(base_url: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        DEFAULT_API_KEY, base_addresses={"api": base_url}, max_network_retries=0
    )


def _catalog(client: stripe.StripeClient) -> tuple[Any, Any, Any]:
    product = client.v1.products.create(params={"name": "Platform seat"})
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": 4900,
            "recurring": {"interval": "month"},
            "lookup_key": "seat_monthly",
        }
    )
    meter = client.v1.billing.meters.create(
        params={
            "display_name": "API calls",
            "event_name": "api_call",
            "default_aggregation": {"formula": "sum"},
        }
    )
    metered = client.v1.prices.create(
        params={
            "product": product.id,
            "currency": "usd",
            "unit_amount": 2,
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
        }
    )
    return product, price, metered


def test_sdk_runs_customer_to_paid_invoice(client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(
        params={
            "name": "Acme Corp",
            "email": "billing@acme.test",
            "address": {"line1": "1 Main St", "city": "Austin", "country": "US"},
            "metadata": {"crm_id": "0065g00000XyZ"},
            "tax_exempt": "none",
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    assert customer.id.startswith("cus_")
    assert customer.metadata["crm_id"] == "0065g00000XyZ"
    assert customer.address.city == "Austin"
    assert customer.address.postal_code is None
    _, price, metered = _catalog(client)
    assert price.id.startswith("price_")
    assert price.unit_amount_decimal == Decimal("4900")
    assert metered.recurring.usage_type == "metered"

    sub = client.v1.subscriptions.create(
        params={
            "customer": customer.id,
            "items": [{"price": price.id, "quantity": 3}, {"price": metered.id}],
            "expand": ["latest_invoice"],
        }
    )
    assert sub.id.startswith("sub_")
    assert sub.status == "active"
    item = sub["items"].data[0]
    assert item.id.startswith("si_")
    assert item.quantity == 3
    assert item.current_period_end > item.current_period_start == sub.start_date
    first = sub.latest_invoice
    assert first.status == "paid"
    assert first.total == 3 * 4900
    assert first.parent.subscription_details.subscription == sub.id
    assert first.number.endswith("-0001")

    one_off = client.v1.prices.create(
        params={"product": price.product, "currency": "usd", "unit_amount": 15000}
    )
    item = client.v1.invoice_items.create(
        params={"customer": customer.id, "pricing": {"price": one_off.id}, "quantity": 2}
    )
    assert item.id.startswith("ii_")
    assert item.amount == 30000
    assert item.invoice is None
    invoice = client.v1.invoices.create(
        params={"customer": customer.id, "pending_invoice_items_behavior": "include"}
    )
    assert invoice.status == "draft"
    assert invoice.total == 30000
    assert invoice.lines.data[0].parent.invoice_item_details.invoice_item == item.id
    invoice = client.v1.invoices.finalize_invoice(invoice.id)
    assert invoice.status == "open"
    assert invoice.number
    assert invoice.hosted_invoice_url
    invoice = client.v1.invoices.pay(invoice.id)
    assert invoice.status == "paid"
    assert (invoice.amount_paid, invoice.amount_remaining) == (30000, 0)


def test_sdk_idempotency_key_replays_the_same_object(client: stripe.StripeClient) -> None:
    options: Any = {"idempotency_key": "create-acme-1"}
    first = client.v1.customers.create(params={"name": "Acme"}, options=options)
    second = client.v1.customers.create(params={"name": "Acme"}, options=options)

    assert second.id == first.id
    headers = second.last_response.headers
    assert headers["Idempotent-Replayed"] == "true"
    assert headers["Original-Request"] == first.last_response.request_id
    assert headers["Request-Id"] != first.last_response.request_id
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert len(client.v1.customers.list().data) == 1


def test_sdk_raises_invalid_request_error_on_unknown_parameter(
    client: stripe.StripeClient,
) -> None:
    params: Any = {"name": "Acme", "nickname": "A"}
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create(params=params)

    assert caught.value.http_status == 400
    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == "nickname"
    assert caught.value.user_message == "Received unknown parameter: nickname"


def test_sdk_raises_idempotency_error_when_key_is_reused_with_other_params(
    client: stripe.StripeClient,
) -> None:
    options: Any = {"idempotency_key": "reused-key"}
    client.v1.customers.create(params={"name": "Acme"}, options=options)

    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.customers.create(params={"name": "Globex"}, options=options)

    assert caught.value.http_status == 400
    assert "same parameters" in str(caught.value.user_message)
    assert "'reused-key'" in str(caught.value.user_message)


def test_sdk_raises_authentication_error_without_echoing_the_key(base_url: str) -> None:
    wrong = stripe.StripeClient(
        "sk_test_wrongkey123456789", base_addresses={"api": base_url}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError) as caught:
        wrong.v1.customers.list()

    message = str(caught.value.user_message)
    assert message == "Invalid API Key provided: sk_test_*************6789"
    assert "wrongkey" not in message


def test_sdk_raises_card_error_when_the_customer_is_set_to_fail(
    client: stripe.StripeClient,
) -> None:
    customer = client.v1.customers.create(params={"metadata": {"sandbox_payment": "fail"}})
    client.v1.invoice_items.create(
        params={"customer": customer.id, "amount": 1200, "currency": "usd"}
    )
    invoice = client.v1.invoices.create(
        params={"customer": customer.id, "pending_invoice_items_behavior": "include"}
    )

    with pytest.raises(stripe.CardError) as caught:
        client.v1.invoices.pay(invoice.id)

    assert caught.value.code == "card_declined"
    after = client.v1.invoices.retrieve(invoice.id)
    assert (after.status, after.attempt_count, after.amount_remaining) == ("open", 1, 1200)


def test_sdk_auto_paging_walks_every_page(client: stripe.StripeClient) -> None:
    created = [client.v1.customers.create(params={"name": f"c{i}"}).id for i in range(23)]

    first = client.v1.customers.list(params={"limit": 10})
    walked = [c.id for c in first.auto_paging_iter()]

    assert first.has_more is True
    assert len(first.data) == 10
    assert walked == created[::-1]


def test_webhooks_verify_with_sdk_construct_event(
    client: stripe.StripeClient, base_url: str, receiver: tuple[str, Receiver]
) -> None:
    customer = client.v1.customers.create(params={"name": "Acme"})
    client.v1.customers.update(customer.id, params={"name": "Acme Inc"})
    httpx.post(f"{base_url}/_sandbox/webhooks/drain").raise_for_status()

    events = [
        stripe.Webhook.construct_event(body, headers["stripe-signature"], SECRET)
        for body, headers in receiver[1].deliveries
    ]
    assert [e.type for e in events] == ["customer.created", "customer.updated"]
    updated = events[1]
    assert updated.data.object.name == "Acme Inc"
    assert updated.data.previous_attributes.to_dict() == {"name": "Acme"}
    assert updated.request.id
    assert updated.request.idempotency_key
    assert "previous_attributes" not in events[0].data
    body, headers = receiver[1].deliveries[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["stripe-signature"], "whsec_other")


def test_commit_then_drop_retried_by_the_sdk_creates_one_customer(base_url: str) -> None:
    # seed whose first draw drops (p < 0.5) and second passes: the SDK's retry gets through
    seed = next(s for s in range(1000) if _draws(s)[0] < 0.5 <= _draws(s)[1])
    rule = FaultRule(
        path="/v1/customers",
        method="POST",
        commit_then_drop_rate=0.5,
        drop_mode="timeout",
        hang_s=0.6,
    )
    config = FaultConfig(seed=seed, rules=[rule]).model_dump(mode="json")
    httpx.put(f"{base_url}/_sandbox/faults", json=config).raise_for_status()
    client = stripe.StripeClient(
        DEFAULT_API_KEY,
        base_addresses={"api": base_url},
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=0.3),
    )

    customer = client.v1.customers.create(params={"name": "Acme"})

    state = httpx.get(f"{base_url}/_sandbox/state").json()
    assert [c["id"] for c in state["customers"]] == [customer.id]
    assert state["_faults"] == {"commit_then_drop": 1}
    assert customer.last_response.headers["Idempotent-Replayed"] == "true"


def test_commit_then_drop_then_manual_retry_with_same_key_creates_one_customer(
    base_url: str, client: stripe.StripeClient
) -> None:
    rule = FaultRule(path="/v1/customers", method="POST", commit_then_drop_rate=1.0)
    config = FaultConfig(rules=[rule]).model_dump(mode="json")
    httpx.put(f"{base_url}/_sandbox/faults", json=config).raise_for_status()
    options: Any = {"idempotency_key": "order-42-customer"}

    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.create(params={"name": "Acme"}, options=options)
    httpx.put(f"{base_url}/_sandbox/faults", json={}).raise_for_status()
    customer = client.v1.customers.create(params={"name": "Acme"}, options=options)

    state = httpx.get(f"{base_url}/_sandbox/state").json()
    assert [c["id"] for c in state["customers"]] == [customer.id]


def _draws(seed: int) -> tuple[float, float]:
    rng = random.Random(seed)
    return rng.random(), rng.random()
