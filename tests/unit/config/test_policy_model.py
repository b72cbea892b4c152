"""The Policy answers the questions the runtime asks of it."""

from __future__ import annotations

from typing import Any

from revbridge.config import Policy, load_policy
from revbridge.config.policy import RoutingRule

PolicyFile = Any  # conftest.PolicyFile


def example(example_file: PolicyFile) -> Policy:
    return load_policy(example_file.path)


def test_system_call_policy_overlays_defaults_field_by_field(example_file: PolicyFile) -> None:
    policy = example(example_file)

    retry = policy.retry_for("netsuite")
    assert (retry.max_attempts, retry.base_delay_s, retry.max_delay_s) == (6, 0.5, 60.0)
    limit = policy.rate_limit_for("salesforce")
    assert (limit.requests_per_s, limit.burst, limit.max_concurrency) == (20.0, 40, 10)
    assert policy.retry_for("stripe") == policy.defaults.retry
    assert (policy.timeout_for("netsuite"), policy.timeout_for("stripe")) == (60.0, 30.0)


def test_routing_takes_the_first_matching_rule_then_the_default(example_file: PolicyFile) -> None:
    policy = example(example_file)
    rules = [RoutingRule(country="US", regions=["PR"], legal_entity="ACME-UK")]
    regional = policy.model_copy(
        update={
            "routing": policy.routing.model_copy(update={"rules": rules + policy.routing.rules})
        }
    )

    assert policy.route("GB") == "ACME-UK"
    assert policy.route("CH") == "ACME-DE"
    assert policy.route("FR") == "ACME-US"
    assert regional.route("US", "PR") == "ACME-UK"
    assert regional.route("US", "NY") == "ACME-US"


def test_exception_owner_falls_back_from_class_to_family_to_default(
    example_file: PolicyFile,
) -> None:
    exceptions = example(example_file).exceptions

    assert exceptions.owner_for("validation.tax_nexus") == "finance_ops"
    assert exceptions.owner_for("validation.something_new") == "sales_ops"
    assert exceptions.owner_for("erp.data") == "finance_ops"
    assert exceptions.owner_for("unclassified") == "integration_support"


def test_money_stays_decimal_and_ownership_is_as_written(example_file: PolicyFile) -> None:
    policy = example(example_file)

    price = policy.products["USG-STORAGE-GB"].billing.prices["USD"]
    assert str(price) == "0.50"
    assert policy.field_owner("customer.payment_terms") == "erp"
    assert policy.field_owner("order.discount") is None
    assert policy.systems_with_role("erp") == ["netsuite"]
    assert policy.legal_entities["ACME-DE"].erp_dimensions.class_ is None
    assert policy.products["SVC-TRAINING"].erp_dimensions.class_ == "200"
