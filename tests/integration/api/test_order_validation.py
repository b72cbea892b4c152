"""``POST /v1/orders`` validates amounts like money and prices against the product map:
a negative, zero, exponent-written or off-price line is refused with 422 and nothing is
stored or started."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from conftest import Recorder
from sqlalchemy import Engine

from revbridge.store import packages

ADDRESS = {"line1": "2 Piccadilly Pl", "city": "Manchester", "postal_code": "M1 1AE"}


def _submission(price: str, quantity: str = "1", amount: str | None = None) -> dict[str, Any]:
    customer = {
        "customer_id": "cpq-cust-9",
        "name": "Umbrella UK",
        "billing_address": {**ADDRESS, "country": "GB"},
        "currency": "GBP",
    }
    line = {
        "line_id": "l1",
        "sku": "SUB-PLATFORM-ANNUAL",
        "kind": "subscription",
        "quantity": quantity,
        "unit_price": {"amount": price, "currency": "GBP"},
        "amount": {"amount": amount or price, "currency": "GBP"},
    }
    return {
        "order": {
            "order_id": "cpq-9001",
            "source": {"system": "cpq", "id": "cpq-9001"},
            "customer": customer,
            "currency": "GBP",
            "correlation_id": "from-the-cpq",
            "lines": [line],
            "contract": {
                "start_date": "2027-01-01",
                "end_date": "2027-12-31",
                "term_months": 12,
                "billing_frequency": "annual",
            },
        }
    }


def _nothing_stored(engine: Engine, recorder: Recorder) -> None:
    with engine.connect() as conn:
        assert packages.load(conn, "api:cpq-9001") is None
    assert recorder.starts == []


@pytest.mark.parametrize(
    ("price", "said"),
    [
        ("-9600.00", "below zero"),
        ("0.00", "priced at zero"),
        ("1.00", "99.99 % below its price of 9600.00 GBP"),
        ("9700.00", "above its price"),
    ],
)
def test_negative_zero_and_off_price_orders_are_refused_as_pricing_findings(
    client: httpx.Client,
    auth: dict[str, dict[str, str]],
    store_engine: Engine,
    recorder: Recorder,
    price: str,
    said: str,
) -> None:
    answer = client.post("/v1/orders", json=_submission(price), headers=auth["sales_ops"])
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    findings = answer.json()["findings"]
    assert [f["rule"] for f in findings] == ["validation.pricing"]
    assert said in findings[0]["message"]
    _nothing_stored(store_engine, recorder)


@pytest.mark.parametrize(
    ("field", "value"), [("price", "1e5"), ("quantity", "1E+2"), ("price", "9600.001")]
)
def test_exponents_and_sub_cent_amounts_are_refused_before_any_rule(
    client: httpx.Client,
    auth: dict[str, dict[str, str]],
    store_engine: Engine,
    recorder: Recorder,
    field: str,
    value: str,
) -> None:
    body = _submission(value) if field == "price" else _submission("9600.00", quantity=value)
    answer = client.post("/v1/orders", json=body, headers=auth["sales_ops"])
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    _nothing_stored(store_engine, recorder)


def test_an_order_at_the_map_price_is_accepted(
    client: httpx.Client, auth: dict[str, dict[str, str]], recorder: Recorder
) -> None:
    answer = client.post(
        "/v1/orders",
        json=_submission("9600.00", quantity="2", amount="19200.00"),
        headers=auth["sales_ops"],
    )
    assert answer.status_code == 202, answer.text
    assert recorder.starts == [("api:cpq-9001", recorder.starts[0][1])]


@pytest.mark.parametrize(
    "path",
    ["/v1/orders", "/v1/replays", "/v1/exceptions/case_x/actions", "/v1/exceptions/case_x/assign"],
)
def test_a_json_route_answers_415_to_another_media_type(
    client: httpx.Client, auth: dict[str, dict[str, str]], recorder: Recorder, path: str
) -> None:
    headers = {**auth["admin"], "Content-Type": "text/plain"}
    answer = client.post(path, content=json.dumps(_submission("9600.00")), headers=headers)
    assert answer.status_code == 415, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert (recorder.starts, recorder.signals, recorder.replays) == ([], [], [])
