"""The registry builds each role's adapter from the policy, typed by its port, and the
composition root finds the adapters' optional capabilities by their protocols."""

from __future__ import annotations

import pytest

from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.load import load_policy
from revbridge.config.policy import Policy
from revbridge.connectors.avalara import AvalaraTax
from revbridge.connectors.netsuite import NetSuiteErp
from revbridge.connectors.registry import adapter_for_role, billing_events, build_adapter
from revbridge.connectors.salesforce import SalesforceCrm
from revbridge.connectors.stripe import StripeBilling, StripeEvents
from revbridge.errors import ConfigError
from revbridge.ports import CallsOut, ChangeFeedSource, ChangePushReceiver

ENV = {
    name: f"value-of-{name.lower()}"
    for name in (
        "SF_CLIENT_ID",
        "SF_CLIENT_SECRET",
        "SF_CDC_WEBHOOK_SECRET",
        "NS_CONSUMER_KEY",
        "NS_CONSUMER_SECRET",
        "NS_TOKEN_ID",
        "NS_TOKEN_SECRET",
        "STRIPE_API_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "AVATAX_ACCOUNT_ID",
        "AVATAX_LICENSE_KEY",
    )
}


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(EXAMPLE_POLICY)


def test_each_role_gets_the_adapter_of_its_system(policy: Policy) -> None:
    assert isinstance(adapter_for_role(policy, "crm", ENV), SalesforceCrm)
    assert isinstance(adapter_for_role(policy, "erp", ENV), NetSuiteErp)
    assert isinstance(adapter_for_role(policy, "billing", ENV), StripeBilling)
    assert isinstance(adapter_for_role(policy, "tax", ENV), AvalaraTax)


def test_every_adapter_calls_out_through_its_http_caller(policy: Policy) -> None:
    for name in policy.systems:
        adapter = build_adapter(policy, name, ENV)
        assert isinstance(adapter, CallsOut)
        assert adapter.http.system == name
        assert adapter.http.observers == []


def test_only_the_crm_has_a_change_feed_and_pushed_changes(policy: Policy) -> None:
    crm = adapter_for_role(policy, "crm", ENV)
    erp = adapter_for_role(policy, "erp", ENV)
    assert isinstance(crm, ChangeFeedSource)
    assert isinstance(crm, ChangePushReceiver)
    assert not isinstance(erp, ChangeFeedSource)
    assert not isinstance(erp, ChangePushReceiver)


def test_the_policy_retry_section_reaches_the_caller(policy: Policy) -> None:
    crm = adapter_for_role(policy, "crm", ENV)
    assert isinstance(crm, CallsOut)
    assert isinstance(crm, SalesforceCrm)
    assert crm.http.policy.jitter.value == policy.retry_for("salesforce").jitter


def test_stripe_events_are_read_only_with_a_webhook_secret(policy: Policy) -> None:
    assert isinstance(billing_events(policy, ENV), StripeEvents)
    without = {k: v for k, v in ENV.items() if k != "STRIPE_WEBHOOK_SECRET"}
    assert billing_events(policy, without) is None


def test_a_missing_variable_is_one_config_error_naming_each(policy: Policy) -> None:
    partial = {k: v for k, v in ENV.items() if k not in ("NS_TOKEN_ID", "NS_TOKEN_SECRET")}
    with pytest.raises(ConfigError) as caught:
        adapter_for_role(policy, "erp", partial)
    assert caught.value.problems == [
        "systems.netsuite.credentials.token_id: environment variable NS_TOKEN_ID is not set",
        "systems.netsuite.credentials.token_secret: environment variable NS_TOKEN_SECRET "
        "is not set",
    ]
