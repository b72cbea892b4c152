"""Ids: references into other systems, correlation ids, idempotency keys, workflow ids."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from revbridge.canonical.commerce import BillingFrequency
from revbridge.canonical.ids import (
    ExternalRef,
    idempotency_key,
    new_correlation_id,
    new_id,
    workflow_id_for,
)
from revbridge.canonical.party import Customer
from revbridge.testing.factories import uk_child_customer

OPPORTUNITY = ExternalRef(system="crm", id="006Dn000004QmZtIAK")


def test_external_ref_is_frozen_and_prints_as_system_colon_id() -> None:
    assert str(OPPORTUNITY) == "crm:006Dn000004QmZtIAK"
    assert ExternalRef.parse(str(OPPORTUNITY)) == OPPORTUNITY
    assert ExternalRef.parse("erp:a:b") == ExternalRef(system="erp", id="a:b")
    with pytest.raises(ValidationError):
        OPPORTUNITY.id = "other"  # type: ignore[misc]


@pytest.mark.parametrize("system", ["", "CRM", "my crm", "1erp"])
def test_external_ref_system_is_a_policy_name(system: str) -> None:
    with pytest.raises(ValidationError):
        ExternalRef(system=system, id="1")


def test_a_customer_has_at_most_one_ref_per_system() -> None:
    customer = uk_child_customer()
    assert customer.ref_for("erp") == ExternalRef(system="erp", id="1042")
    assert customer.ref_for("billing") is None
    with pytest.raises(ValidationError, match="more than one reference for system"):
        Customer.model_validate(
            customer.model_dump()
            | {"external_refs": [{"system": "erp", "id": "1"}, {"system": "erp", "id": "2"}]}
        )


def test_new_correlation_ids_are_unique_uuids() -> None:
    first, second = new_correlation_id(), new_correlation_id()
    assert first != second
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first
    )


def test_new_ids_carry_their_prefix() -> None:
    assert re.fullmatch(r"ord_[0-9a-f]{32}", new_id("ord"))
    with pytest.raises(ValueError, match="prefix"):
        new_id("ord-")


def test_idempotency_key_is_readable_and_deterministic() -> None:
    key = idempotency_key("sales_order", OPPORTUNITY, 2)
    assert key == "sales_order:crm:006Dn000004QmZtIAK:2"
    assert idempotency_key("sales_order", OPPORTUNITY, 2) == key
    assert idempotency_key("invoice", BillingFrequency.ANNUAL) == "invoice:annual"


def test_idempotency_key_parts_cannot_run_into_each_other() -> None:
    assert idempotency_key("a:b", "c") != idempotency_key("a", "b:c")
    assert idempotency_key("a b") == "a%20b"


@pytest.mark.parametrize("parts", [(), ("",), (True,), (1.5,)])
def test_idempotency_key_refuses_empty_or_odd_parts(parts: tuple[object, ...]) -> None:
    with pytest.raises((ValueError, TypeError)):
        idempotency_key(*parts)  # type: ignore[arg-type]


def test_long_keys_keep_a_readable_prefix_and_a_sha256_suffix() -> None:
    key = idempotency_key("customer", "x" * 400)
    assert len(key) == 255
    assert key.startswith("customer:xxxx")
    assert re.fullmatch(r"[^#]+#[0-9a-f]{64}", key)
    assert idempotency_key("customer", "x" * 400) == key
    assert idempotency_key("customer", "x" * 401) != key


@given(parts=st.lists(st.text(min_size=1) | st.integers(), min_size=1, max_size=6))
@settings(max_examples=100, deadline=None)
def test_every_key_is_short_printable_ascii(parts: list[str | int]) -> None:
    key = idempotency_key(*parts)
    assert 0 < len(key) <= 255
    assert re.fullmatch(r"[\x21-\x7e]+", key)
    assert key == idempotency_key(*parts)


def test_workflow_id_is_derived_from_the_business_key() -> None:
    assert workflow_id_for("quote_to_cash", OPPORTUNITY) == "quote_to_cash:crm:006Dn000004QmZtIAK"
    with pytest.raises(ValueError, match="snake_case"):
        workflow_id_for("Quote To Cash", OPPORTUNITY)
