"""``failure_from_error``: the failure class an exception case gets from a step's error.

The family is the step's role (``crm``, ``erp``, ``tax``, ``billing``) and the kind is
what the error says (``data``, ``not_found``, ``conflict``); bad credentials are
``auth.<role>``, a system still down after its retries is ``integration.unavailable``,
and anything unexpected is ``integration.defect``. The policy maps each class to an owner.
"""

from __future__ import annotations

import pytest

from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.load import load_policy
from revbridge.config.policy import FAILURE_CLASSES
from revbridge.errors import (
    AuthError,
    ConflictError,
    ConnectorError,
    DataError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryableError,
    TimeoutAfterSendError,
)
from revbridge.flows.outcomes import failure_from_error
from revbridge.observability import redaction

EXAMPLE = EXAMPLE_POLICY


@pytest.mark.parametrize(
    ("step", "error", "failure_class"),
    [
        ("submit_sales_order", DataError("netsuite 400 USER_ERROR"), "erp.data"),
        ("upsert_erp_customer", ConflictError("netsuite 400 DUP_ENTITY"), "erp.conflict"),
        ("check_order_state", NotFoundError("netsuite 404 NONEXISTENT_ID"), "erp.not_found"),
        ("fetch_deal", NotFoundError("salesforce NOT_FOUND"), "crm.not_found"),
        ("write_back", DataError("salesforce INVALID_FIELD"), "crm.data"),
        ("quote_tax", DataError("AvaTax 400 InvalidAddress"), "tax.data"),
        ("start_subscription", DataError("stripe 400 parameter_missing"), "billing.data"),
        ("add_invoice_items", NotFoundError("stripe 404 resource_missing"), "billing.not_found"),
        ("cancel_subscription", NotFoundError("stripe 404 resource_missing"), "billing.not_found"),
        ("close_sales_order", DataError("netsuite 400 USER_ERROR"), "erp.data"),
        ("void_tax", ConflictError("AvaTax CannotModifyLockedTransaction"), "tax.conflict"),
    ],
)
def test_a_rejected_call_is_a_failure_of_the_steps_system_and_kind(
    step: str, error: ConnectorError, failure_class: str
) -> None:
    failure = failure_from_error(step, error)
    assert failure.failure_class == failure_class
    assert not failure.retryable


@pytest.mark.parametrize(
    ("step", "failure_class"),
    [
        ("fetch_deal", "auth.crm"),
        ("submit_sales_order", "auth.erp"),
        ("quote_tax", "auth.tax"),
        ("ensure_billing_customer", "auth.billing"),
    ],
)
def test_refused_credentials_are_an_auth_failure_of_the_steps_system(
    step: str, failure_class: str
) -> None:
    failure = failure_from_error(step, AuthError("401 invalid login"))
    assert failure.failure_class == failure_class


@pytest.mark.parametrize(
    "error",
    [
        RetryableError("netsuite 503 SERVICE_UNAVAILABLE"),
        RateLimitedError("netsuite 429 CONCURRENCY_LIMIT_EXCEEDED", retry_after=2.0),
        TimeoutAfterSendError("netsuite: no answer after sending (ReadTimeout)"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_system_still_down_after_its_retries_is_integration_unavailable(
    error: ConnectorError,
) -> None:
    failure = failure_from_error("submit_sales_order", error)
    assert failure.failure_class == "integration.unavailable"
    assert failure.retryable


def test_an_unexpected_exception_is_an_integration_defect_named_by_its_type() -> None:
    failure = failure_from_error("submit_sales_order", KeyError("subsidiary"))
    assert failure.failure_class == "integration.defect"
    assert failure.message == "KeyError: 'subsidiary'"
    assert not failure.retryable
    assert failure.system == ""


def test_the_failure_carries_the_system_code_and_the_exchange() -> None:
    request = {
        "method": "POST",
        "url": "/record/v1/salesOrder",
        "headers": {"Authorization": "***"},
    }
    response = {"status": 400, "body": {"o:errorDetails": [{"o:errorCode": "USER_ERROR"}]}}
    error = DataError(
        "netsuite 400 USER_ERROR at department: Please enter value(s) for: Department",
        system="netsuite",
        code="USER_ERROR",
        status=400,
        request=request,
        response=response,
    )
    failure = failure_from_error("submit_sales_order", error)
    assert failure.step == "submit_sales_order"
    assert failure.message == str(error)
    assert failure.system == "netsuite"
    assert failure.code == "USER_ERROR"
    assert failure.request == request
    assert failure.response == response


def test_a_step_without_a_role_falls_in_the_integration_family() -> None:
    failure = failure_from_error("a_new_step", DataError("refused"))
    assert failure.failure_class == "integration.data"


def test_the_example_policy_sends_each_failure_to_the_right_team() -> None:
    owner_for = load_policy(EXAMPLE).exceptions.owner_for

    def owner(step: str, error: Exception) -> str:
        return owner_for(failure_from_error(step, error).failure_class)

    assert owner("submit_sales_order", DataError("bad item")) == "finance_ops"
    assert owner("upsert_erp_customer", ConflictError("duplicate name")) == "sales_ops"
    assert owner("fetch_deal", DataError("bad field")) == "sales_ops"
    assert owner("submit_sales_order", AuthError("401")) == "integration_support"
    assert owner("quote_tax", RetryableError("503")) == "integration_support"
    assert owner("quote_tax", ValueError("bug")) == "integration_support"


@pytest.mark.parametrize("step", ["submit_sales_order", "quote_tax", "start_subscription"])
def test_an_unclassified_permanent_error_gets_a_failure_class_the_policy_can_name(
    step: str,
) -> None:
    failure = failure_from_error(step, PermanentError("415 Unsupported Media Type"))
    assert failure.failure_class in FAILURE_CLASSES


def test_a_known_secret_in_an_unexpected_exception_does_not_reach_the_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(redaction, "_known", set())
    redaction.register_secret("sk_test_51SecretValue")
    error = ValueError("bad header 'Bearer sk_test_51SecretValue'")
    failure = failure_from_error("start_subscription", error)
    assert "sk_test_51SecretValue" not in failure.message
