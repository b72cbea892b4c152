"""Activations are signed as Standard Webhooks: a receiver's own library verifies them."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import date
from decimal import Decimal

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from revbridge.canonical import Customer, Order, OrderLine
from revbridge.canonical.money import Money
from revbridge.connectors.provisioning.mapping import activation_body
from revbridge.connectors.provisioning.signing import (
    WebhookSigningTransport,
    signature,
    signing_key,
)
from revbridge.ports import Activation, EntityContext, OrderPlan

# The test vector the Standard Webhooks reference libraries share.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_reproduces_the_standard_webhooks_test_vector() -> None:
    key = signing_key(VECTOR_SECRET)

    assert signature(key, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_whsec_prefix_may_be_left_out() -> None:
    assert signing_key(VECTOR_SECRET.removeprefix("whsec_")) == signing_key(VECTOR_SECRET)


@pytest.mark.parametrize("secret", ["whsec_not base64!", "plain-text-secret", "whsec_"])
def test_a_secret_that_is_not_base64_is_refused_without_repeating_it(secret: str) -> None:
    with pytest.raises(ValueError, match="not a Standard Webhooks secret") as raised:
        signing_key(secret)

    key = secret.removeprefix("whsec_")
    assert not key or key not in str(raised.value)


def test_each_request_is_signed_as_it_leaves_and_the_reference_library_verifies_it() -> None:
    secret = "whsec_" + base64.b64encode(b"provisioning-test-key").decode()
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    clock = iter([1_700_000_000.0, 1_700_000_007.0])
    transport = WebhookSigningTransport(
        signing_key(secret), inner=lambda: httpx.MockTransport(receive), clock=lambda: next(clock)
    )

    async def send_twice() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            for _ in range(2):
                await client.post("/activations", json={"a": 1}, headers={"webhook-id": "ent_1"})

    asyncio.run(send_twice())

    assert [r.headers["webhook-timestamp"] for r in seen] == ["1700000000", "1700000007"]
    assert {r.headers["webhook-id"] for r in seen} == {"ent_1"}
    for request in seen:
        timestamp = int(request.headers["webhook-timestamp"])
        expected = signature(signing_key(secret), "ent_1", timestamp, request.content)
        assert request.headers["webhook-signature"] == expected
    # what a receiver does with the standardwebhooks package (its clock: now)
    now = WebhookSigningTransport(signing_key(secret))
    fresh = httpx.Request(
        "POST", "http://127.0.0.1/a", content=b'{"a":1}', headers={"webhook-id": "ent_1"}
    )
    now.sign(fresh)
    assert Webhook(secret).verify(fresh.content, dict(fresh.headers)) == {"a": 1}


def _plan() -> OrderPlan:
    customer = Customer(customer_id="cus-1", name="Globex UK", currency="GBP")
    unit = Money(amount=Decimal("1200.00"), currency="GBP")
    total = Money(amount=Decimal("3600.00"), currency="GBP")
    line = OrderLine(
        line_id="l1",
        sku="SUB-PLATFORM-ANNUAL",
        kind="subscription",
        quantity=Decimal("3"),
        unit_price=unit,
        amount=total,
        service_start=date(2027, 1, 1),
        service_end=date(2027, 12, 31),
    )
    order = Order(
        order_id="ord-1",
        source={"system": "salesforce", "id": "006A"},
        customer=customer,
        currency="GBP",
        lines=(line,),
        correlation_id="corr-1",
    )
    entity = EntityContext(
        code="ACME-UK",
        name="Acme Cloud Ltd",
        country="GB",
        currency="GBP",
        erp_subsidiary="3",
        tax_company_code="ACMEUK",
    )
    return OrderPlan(order=order, hierarchy=(customer,), entity=entity, lines={})


def test_the_body_names_the_customer_products_quantities_and_term() -> None:
    activation = Activation(
        endpoint="provisioning",
        webhook_id="ent_1",
        deal="salesforce:006A",
        correlation_id="corr-1",
        plan=_plan(),
    )

    body = json.loads(json.dumps(activation_body(activation)))

    assert body["type"] == "entitlement.activated"
    assert body["deal"] == "salesforce:006A"
    assert body["correlation_id"] == "corr-1"
    assert body["customer"]["id"] == "cus-1"
    assert body["customer"]["name"] == "Globex UK"
    assert body["products"] == [
        {"sku": "SUB-PLATFORM-ANNUAL", "quantity": "3", "kind": "subscription"}
    ]
    assert body["term"] == {"start": "2027-01-01", "end": "2027-12-31"}
    assert body["legal_entity"] == "ACME-UK"
