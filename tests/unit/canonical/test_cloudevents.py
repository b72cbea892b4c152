"""Business events are valid CloudEvents 1.0, in structured and HTTP binary mode."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from pydantic import ValidationError

from revbridge.canonical.commerce import Order
from revbridge.canonical.events import (
    BusinessEvent,
    EventType,
    from_binary,
    from_structured,
    to_binary,
    to_structured,
)
from revbridge.testing.factories import (
    invoice_for,
    order_accepted_event,
    uk_subscription_order,
)
from revbridge.testing.strategies import business_events

MODEST = settings(max_examples=60, deadline=None)


def order_event() -> BusinessEvent:
    return order_accepted_event(uk_subscription_order())


def structured(event: BusinessEvent) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(to_structured(event))
    return document


def test_structured_event_has_the_cloudevents_attributes() -> None:
    document = structured(order_event())
    assert document["specversion"] == "1.0"
    assert document["type"] == "com.revbridge.order.accepted"
    assert document["source"] == "/revbridge/flows/quote_to_cash"
    assert document["subject"] == "ord_uk_0001"
    assert document["time"].endswith("Z")
    assert document["datacontenttype"] == "application/json"
    assert document["correlationid"] == uk_subscription_order().correlation_id
    assert document["schemaversion"] == "1"
    assert document["data"]["total"] == {"amount": "17250.00", "currency": "GBP"}
    assert "causationid" not in document  # absent optional attributes are omitted
    assert "dataschema" not in document


def test_every_event_type_is_reverse_dns_qualified() -> None:
    for event_type in EventType:
        assert event_type.ce_type == f"com.revbridge.{event_type.value}"
        assert EventType.from_ce_type(event_type.ce_type) is event_type
    with pytest.raises(ValueError, match=r"com\.revbridge"):
        EventType.from_ce_type("order.accepted")


def test_structured_mode_round_trips_with_model_data() -> None:
    event = order_event()
    again = from_structured(to_structured(event))
    assert again == event
    assert isinstance(again.data, Order)
    assert again.data.total == uk_subscription_order().total


def test_binary_mode_puts_attributes_in_ce_headers() -> None:
    event = BusinessEvent.model_validate(
        order_event().model_dump() | {"traceparent": "00-4bf9-00f0-01"}
    )
    assert event.extensions == {"traceparent": "00-4bf9-00f0-01"}
    headers, body = to_binary(event)
    assert headers["content-type"] == "application/json"
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-type"] == "com.revbridge.order.accepted"
    assert headers["ce-id"] == event.id
    assert headers["ce-correlationid"] == event.correlationid
    assert headers["ce-traceparent"] == "00-4bf9-00f0-01"
    assert "ce-datacontenttype" not in headers
    assert "ce-data" not in headers
    assert json.loads(body)["order_id"] == "ord_uk_0001"
    assert from_binary(headers, body) == event


def test_binary_mode_reads_headers_case_insensitively() -> None:
    event = order_event()
    headers, body = to_binary(event)
    assert from_binary({name.title(): value for name, value in headers.items()}, body) == event


def test_binary_header_values_are_percent_encoded() -> None:
    event = order_event().model_copy(update={"subject": 'Ürün "A" 100%'})
    headers, body = to_binary(event)
    assert headers["ce-subject"] == "%C3%9Cr%C3%BCn%20%22A%22%20100%25"
    assert from_binary(headers, body).subject == 'Ürün "A" 100%'


def test_binary_mode_requires_specversion() -> None:
    headers, body = to_binary(order_event())
    del headers["ce-specversion"]
    with pytest.raises(ValueError, match="ce-specversion"):
        from_binary(headers, body)


@given(event=business_events())
@MODEST
def test_any_event_round_trips_in_both_modes(event: BusinessEvent) -> None:
    assert from_structured(to_structured(event)) == event
    assert from_binary(*to_binary(event)) == event


# ---------------------------------------------------------------- what is rejected


def test_only_specversion_1_0_is_accepted() -> None:
    document = structured(order_event()) | {"specversion": "0.3"}
    with pytest.raises(ValidationError, match="specversion"):
        from_structured(json.dumps(document))
    headers, body = to_binary(order_event())
    with pytest.raises(ValidationError, match="specversion"):
        from_binary(headers | {"ce-specversion": "2.0"}, body)


@pytest.mark.parametrize(
    ("attribute", "value"),
    [("id", ""), ("source", ""), ("source", "not a uri"), ("type", "order.accepted")],
)
def test_required_attributes_must_be_meaningful(attribute: str, value: str) -> None:
    document = structured(order_event()) | {attribute: value}
    with pytest.raises(ValidationError, match=attribute):
        from_structured(json.dumps(document))


def test_a_missing_correlation_id_is_rejected() -> None:
    document = structured(order_event())
    del document["correlationid"]
    with pytest.raises(ValidationError, match="correlationid"):
        from_structured(json.dumps(document))


@pytest.mark.parametrize(
    "name", ["correlation_id", "TraceParent", "trace-parent", "averyveryverylongextension"]
)
def test_extension_names_must_follow_the_cloudevents_rule(name: str) -> None:
    document = structured(order_event()) | {name: "x"}
    with pytest.raises(ValidationError, match="not a valid CloudEvents extension attribute name"):
        from_structured(json.dumps(document))
    if name.lower() != "traceparent":  # header names are case-insensitive: ce-TraceParent is fine
        headers, body = to_binary(order_event())
        with pytest.raises(ValidationError, match="extension attribute name"):
            from_binary(headers | {f"ce-{name}": "x"}, body)


def test_extension_values_are_strings() -> None:
    document = structured(order_event()) | {"sequence": 7}
    with pytest.raises(ValidationError, match="sequence"):
        from_structured(json.dumps(document))


def test_naive_time_is_rejected() -> None:
    document = structured(order_event()) | {"time": "2025-01-02T09:00:00"}
    with pytest.raises(ValidationError, match="timezone"):
        from_structured(json.dumps(document))


def test_data_must_be_the_model_its_type_carries() -> None:
    invoice = invoice_for(uk_subscription_order())
    with pytest.raises(ValidationError, match="carries Order, not Invoice"):
        BusinessEvent.create(
            EventType.ORDER_ACCEPTED, invoice, source="/revbridge", correlationid="c-1"
        )
    document = structured(order_event())
    document["data"]["lines"][0]["quantity"] = 1.5
    with pytest.raises(ValidationError, match="not an exact amount"):
        from_structured(json.dumps(document))


def test_exception_events_carry_a_json_object() -> None:
    event = BusinessEvent.create(
        EventType.EXCEPTION_RAISED,
        {"case_id": "case_17", "owner": "finance_ops", "retryable": False},
        source="/revbridge/cases",
        correlationid="c-1",
        subject="case_17",
    )
    assert from_binary(*to_binary(event)) == event
    assert structured(event)["data"]["owner"] == "finance_ops"
