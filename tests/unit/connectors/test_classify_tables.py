"""Each vendor's classify table: its error answers, as the vendor sends them, become the
revbridge error that says what to do (retry, wait, fix credentials, fix data, ...).

The bodies below are the vendors' own shapes (see
``sandboxes/revbridge_sandboxes/<vendor>/errors.py``): Salesforce a JSON array
``[{"errorCode", "message"}]`` (collection items ``statusCode``),
NetSuite ``{"o:errorDetails": [{"o:errorCode", "detail"}]}``, Stripe
``{"error": {"type", "code", "message"}}``, AvaTax ``{"error": {"code", "details"}}``.
The exact class matters: a RateLimitedError is waited out, a RetryableError retried, any
PermanentError opens a case for a person.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from revbridge.connectors import classification
from revbridge.connectors.avalara import classify as avalara
from revbridge.connectors.netsuite import classify as netsuite
from revbridge.connectors.retry import RetryPolicy, decide
from revbridge.connectors.salesforce import classify as salesforce
from revbridge.connectors.stripe import classify as stripe
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

Classify = Callable[[httpx.Response], ConnectorError | None]


def _answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers)
    if isinstance(body, bytes):
        return httpx.Response(status, content=body, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def _classified(classify: Classify, response: httpx.Response) -> ConnectorError:
    error = classify(response)
    assert error is not None
    return error


# -- Salesforce ------------------------------------------------------------------------


def _sf(code: str, message: str) -> list[dict[str, Any]]:
    return [{"message": message, "errorCode": code}]


SALESFORCE = [
    pytest.param(
        400,
        [
            {
                "message": "Required fields are missing: [StageName, CloseDate]",
                "errorCode": "REQUIRED_FIELD_MISSING",
                "fields": ["StageName", "CloseDate"],
            }
        ],
        DataError,
        "REQUIRED_FIELD_MISSING",
        id="required-field-missing",
    ),
    pytest.param(
        400,
        _sf("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Close date cannot be in the past"),
        DataError,
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        id="validation-rule",
    ),
    pytest.param(
        400,
        _sf("DUPLICATE_VALUE", "duplicate value found: External_Id__c"),
        ConflictError,
        "DUPLICATE_VALUE",
        id="duplicate-value",
    ),
    pytest.param(
        401,
        _sf("INVALID_SESSION_ID", "Session expired or invalid"),
        AuthError,
        "INVALID_SESSION_ID",
        id="session-expired",
    ),
    pytest.param(
        400,
        {"error": "invalid_grant", "error_description": "authentication failure"},
        AuthError,
        "invalid_grant",
        id="oauth-invalid-grant",
    ),
    pytest.param(
        403,
        _sf("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
        RateLimitedError,
        "REQUEST_LIMIT_EXCEEDED",
        id="daily-limit-is-a-403",
    ),
    pytest.param(
        403,
        _sf("INSUFFICIENT_ACCESS", "insufficient access rights on object id"),
        AuthError,
        "INSUFFICIENT_ACCESS",
        id="insufficient-access",
    ),
    pytest.param(
        404,
        _sf("NOT_FOUND", "The requested resource does not exist"),
        NotFoundError,
        "NOT_FOUND",
        id="not-found",
    ),
    pytest.param(
        404,
        _sf("ENTITY_IS_DELETED", "entity is deleted"),
        NotFoundError,
        "ENTITY_IS_DELETED",
        id="deleted",
    ),
    pytest.param(
        400,
        _sf("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record"),
        RetryableError,
        "UNABLE_TO_LOCK_ROW",
        id="row-lock-contention",
    ),
    pytest.param(
        500,
        _sf("UNKNOWN_EXCEPTION", "An unexpected error occurred."),
        RetryableError,
        "UNKNOWN_EXCEPTION",
        id="unknown-exception",
    ),
    pytest.param(
        503,
        _sf("SERVER_UNAVAILABLE", "Server is temporarily unavailable."),
        RetryableError,
        "SERVER_UNAVAILABLE",
        id="maintenance",
    ),
    pytest.param(
        300,
        [
            "/services/data/v62.0/sobjects/Account/001A",
            "/services/data/v62.0/sobjects/Account/001B",
        ],
        ConflictError,
        "",
        id="upsert-matched-two-records",
    ),
    pytest.param(
        405,
        _sf("METHOD_NOT_ALLOWED", "HTTP Method 'PUT' not allowed. Allowed are GET,PATCH"),
        DataError,
        "METHOD_NOT_ALLOWED",
        id="unknown-code-falls-back-to-status",
    ),
    pytest.param(502, b"<html>Bad Gateway</html>", RetryableError, "", id="proxy-html-5xx"),
]


@pytest.mark.parametrize(("status", "body", "expected", "code"), SALESFORCE)
def test_salesforce_answers_become_the_error_that_says_what_to_do(
    status: int, body: Any, expected: type[ConnectorError], code: str
) -> None:
    error = _classified(salesforce.classify, _answer(status, body))
    assert type(error) is expected
    assert error.code == code
    assert error.status == status


def test_a_salesforce_message_names_the_code_and_the_vendors_words() -> None:
    body = _sf("REQUIRED_FIELD_MISSING", "Required fields are missing: [StageName]")
    error = _classified(salesforce.classify, _answer(400, body))
    assert (
        str(error) == "salesforce REQUIRED_FIELD_MISSING: Required fields are missing: [StageName]"
    )


@pytest.mark.parametrize("status", [200, 201, 204])
def test_salesforce_successes_are_not_errors(status: int) -> None:
    body = {"id": "001A", "success": True, "errors": []} if status == 201 else None
    assert salesforce.classify(_answer(status, body)) is None


def test_a_collection_where_every_item_succeeded_is_not_an_error() -> None:
    body = [{"id": "001A", "success": True, "errors": []}, {"id": "001B", "success": True}]
    assert salesforce.classify(_answer(200, body)) is None


def test_a_failed_item_inside_a_200_collection_answer_is_an_error() -> None:
    body = [
        {"id": "001A", "success": True, "errors": [], "created": True},
        {
            "success": False,
            "errors": [
                {"statusCode": "DUPLICATES_DETECTED", "message": "Use one of these records?"}
            ],
        },
    ]
    error = _classified(salesforce.classify, _answer(200, body))
    assert type(error) is ConflictError
    assert error.code == "DUPLICATES_DETECTED"


def test_an_all_or_none_rollback_reports_the_item_that_really_failed() -> None:
    rolled_back = {
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": "Record rolled back because not all records were valid",
    }
    body = [
        {"success": False, "errors": [rolled_back]},
        {
            "success": False,
            "errors": [{"statusCode": "STRING_TOO_LONG", "message": "Name: data value too large"}],
        },
    ]
    error = _classified(salesforce.classify, _answer(200, body))
    assert type(error) is DataError
    assert error.code == "STRING_TOO_LONG"
    assert "data value too large" in str(error)


def test_a_salesforce_limit_behind_a_proxy_waits_for_its_retry_after() -> None:
    response = _answer(
        403, _sf("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), {"Retry-After": "30"}
    )
    error = _classified(salesforce.classify, response)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 30.0


# -- NetSuite --------------------------------------------------------------------------


def _ns(status: int, code: str, detail: str, path: str | None = None) -> dict[str, Any]:
    item = {"detail": detail, "o:errorCode": code}
    if path is not None:
        item["o:errorPath"] = path
    return {
        "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1",
        "title": "Bad Request",
        "status": status,
        "o:errorDetails": [item],
    }


NETSUITE = [
    pytest.param(
        400,
        _ns(400, "USER_ERROR", "Please enter value(s) for: Department", "department"),
        DataError,
        "USER_ERROR",
        id="missing-value",
    ),
    pytest.param(
        400,
        _ns(
            400,
            "INVALID_VALUE",
            "Invalid value for the resource or sub-resource field 'subsidiary'.",
        ),
        DataError,
        "INVALID_VALUE",
        id="invalid-value",
    ),
    pytest.param(
        400,
        _ns(400, "DUP_ENTITY", "This entity already exists.", "companyName"),
        ConflictError,
        "DUP_ENTITY",
        id="duplicate-customer-name",
    ),
    pytest.param(
        400,
        _ns(
            400,
            "IDEMPOTENCY_ERROR",
            "A request with the same idempotency key is already submitted.",
        ),
        ConflictError,
        "IDEMPOTENCY_ERROR",
        id="idempotency-key-reused",
    ),
    pytest.param(
        401,
        _ns(401, "INVALID_LOGIN", "Invalid login attempt."),
        AuthError,
        "INVALID_LOGIN",
        id="invalid-login",
    ),
    pytest.param(
        403,
        _ns(403, "INSUFFICIENT_PERMISSION", "Permission Violation: you need Sales Order."),
        AuthError,
        "INSUFFICIENT_PERMISSION",
        id="insufficient-permission",
    ),
    pytest.param(
        404,
        _ns(404, "NONEXISTENT_ID", "The record instance does not exist."),
        NotFoundError,
        "NONEXISTENT_ID",
        id="nonexistent-id",
    ),
    pytest.param(
        429,
        _ns(429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded."),
        RateLimitedError,
        "CONCURRENCY_LIMIT_EXCEEDED",
        id="concurrency-limit",
    ),
    pytest.param(
        400,
        _ns(400, "SSS_REQUEST_LIMIT_EXCEEDED", "Request limit exceeded."),
        RateLimitedError,
        "SSS_REQUEST_LIMIT_EXCEEDED",
        id="restlet-limit-is-a-400",
    ),
    pytest.param(
        500,
        _ns(500, "UNEXPECTED_ERROR", "An unexpected error occurred. Error ID: abc"),
        RetryableError,
        "UNEXPECTED_ERROR",
        id="unexpected-error",
    ),
    pytest.param(
        503,
        _ns(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable."),
        RetryableError,
        "SERVICE_UNAVAILABLE",
        id="unavailable",
    ),
    pytest.param(
        415,
        _ns(415, "INVALID_CONTENT_TYPE", "Unsupported media type."),
        PermanentError,
        "INVALID_CONTENT_TYPE",
        id="unknown-4xx",
    ),
    pytest.param(502, b"<html>Bad Gateway</html>", RetryableError, "", id="proxy-html-5xx"),
]


@pytest.mark.parametrize(("status", "body", "expected", "code"), NETSUITE)
def test_netsuite_answers_become_the_error_that_says_what_to_do(
    status: int, body: Any, expected: type[ConnectorError], code: str
) -> None:
    error = _classified(netsuite.classify, _answer(status, body))
    assert type(error) is expected
    assert error.code == code
    assert error.status == status


def test_a_netsuite_message_names_the_code_the_field_and_the_detail() -> None:
    body = _ns(400, "USER_ERROR", "Please enter value(s) for: Department", "department")
    error = _classified(netsuite.classify, _answer(400, body))
    assert (
        str(error) == "netsuite 400 USER_ERROR at department: Please enter value(s) for: Department"
    )


def test_a_throttling_code_wins_over_a_validation_code_in_the_same_answer() -> None:
    body = _ns(400, "INVALID_VALUE", "Invalid value.")
    body["o:errorDetails"].append({"detail": "Blocked.", "o:errorCode": "WS_REQUEST_BLOCKED"})
    error = _classified(netsuite.classify, _answer(400, body))
    assert type(error) is RateLimitedError
    assert error.code == "WS_REQUEST_BLOCKED"


def test_netsuite_throttling_has_no_retry_after_unless_a_proxy_adds_one() -> None:
    body = _ns(429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded.")
    bare = _classified(netsuite.classify, _answer(429, body))
    proxied = _classified(netsuite.classify, _answer(429, body, {"Retry-After": "2"}))
    assert isinstance(bare, RateLimitedError)
    assert isinstance(proxied, RateLimitedError)
    assert bare.retry_after is None
    assert proxied.retry_after == 2.0


@pytest.mark.parametrize("status", [200, 202, 204])
def test_netsuite_successes_are_not_errors(status: int) -> None:
    assert netsuite.classify(_answer(status)) is None


# -- Stripe ----------------------------------------------------------------------------


def _stripe(message: str, type_: str = "invalid_request_error", **fields: str) -> dict[str, Any]:
    return {"error": {**fields, "message": message, "type": type_}}


STRIPE = [
    pytest.param(
        400,
        _stripe("Missing required param: customer.", code="parameter_missing", param="customer"),
        {},
        DataError,
        "parameter_missing",
        id="missing-param",
    ),
    pytest.param(
        404,
        _stripe("No such customer: 'cus_X'", code="resource_missing", param="customer"),
        {},
        NotFoundError,
        "resource_missing",
        id="resource-missing",
    ),
    pytest.param(
        401,
        _stripe("Invalid API Key provided: sk_test_****1234"),
        {},
        AuthError,
        "invalid_request_error",
        id="invalid-api-key",
    ),
    pytest.param(
        403,
        _stripe(
            "The provided key does not have the required permissions.", code="secret_key_required"
        ),
        {},
        AuthError,
        "secret_key_required",
        id="restricted-key",
    ),
    pytest.param(
        402,
        _stripe("Your card was declined.", "card_error", code="card_declined"),
        {},
        DataError,
        "card_declined",
        id="card-declined",
    ),
    pytest.param(
        429,
        _stripe("Request rate limit exceeded.", code="rate_limit"),
        {},
        RateLimitedError,
        "rate_limit",
        id="rate-limited",
    ),
    pytest.param(
        400,
        _stripe("Too many requests to this object.", code="rate_limit"),
        {},
        RateLimitedError,
        "rate_limit",
        id="rate-limit-code-on-a-400",
    ),
    pytest.param(
        409,
        _stripe(
            "There is currently another in-progress request using this Idempotent Key.",
            "idempotency_error",
            code="idempotency_key_in_use",
        ),
        {},
        RetryableError,
        "idempotency_key_in_use",
        id="same-key-still-running",
    ),
    pytest.param(
        400,
        _stripe(
            "Keys for idempotent requests can only be used with the same parameters.",
            "idempotency_error",
        ),
        {},
        ConflictError,
        "idempotency_error",
        id="same-key-other-parameters",
    ),
    pytest.param(
        500,
        _stripe("An unknown error occurred", "api_error"),
        {},
        RetryableError,
        "api_error",
        id="api-error",
    ),
    pytest.param(
        500,
        _stripe("An unknown error occurred", "api_error"),
        {"Stripe-Should-Retry": "false"},
        PermanentError,
        "api_error",
        id="saved-failure-replayed-under-its-key",
    ),
    pytest.param(
        429,
        _stripe("Request rate limit exceeded.", code="rate_limit"),
        {"Stripe-Should-Retry": "false"},
        PermanentError,
        "rate_limit",
        id="should-retry-false-wins-over-429",
    ),
    pytest.param(
        400,
        _stripe("The object is being modified.", code="lock_timeout"),
        {"Stripe-Should-Retry": "true"},
        RetryableError,
        "lock_timeout",
        id="should-retry-true-wins-over-400",
    ),
]


@pytest.mark.parametrize(("status", "body", "headers", "expected", "code"), STRIPE)
def test_stripe_answers_become_the_error_that_says_what_to_do(
    status: int,
    body: dict[str, Any],
    headers: dict[str, str],
    expected: type[ConnectorError],
    code: str,
) -> None:
    error = _classified(stripe.classify, _answer(status, body, headers))
    assert type(error) is expected
    assert error.code == code
    assert error.status == status


def test_a_stripe_message_names_the_type_code_and_parameter() -> None:
    body = _stripe("No such price: 'price_X'", code="resource_missing", param="items[0][price]")
    error = _classified(stripe.classify, _answer(400, body))
    assert str(error) == (
        "stripe 400 invalid_request_error/resource_missing: No such price: 'price_X' "
        "(param: items[0][price])"
    )


def test_a_stripe_429_carries_no_retry_after_so_the_backoff_applies() -> None:
    error = _classified(stripe.classify, _answer(429, _stripe("Rate limit.", code="rate_limit")))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after is None


@pytest.mark.parametrize("status", [200, 201])
def test_stripe_successes_are_not_errors(status: int) -> None:
    assert stripe.classify(_answer(status, {"id": "cus_1", "object": "customer"})) is None


# -- Avalara ---------------------------------------------------------------------------


def _avatax(
    code: str, message: str, description: str = "", refers_to: str | None = None
) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "code": code,
        "number": 0,
        "message": message,
        "description": description or message,
        "faultCode": "Client",
        "helpLink": f"http://developer.avalara.com/avatax/errors/{code}",
        "severity": "Error",
    }
    if refers_to is not None:
        detail["refersTo"] = refers_to
    return {
        "error": {"code": code, "message": message, "target": "IncorrectData", "details": [detail]}
    }


AVALARA = [
    pytest.param(
        400,
        _avatax("InvalidAddress", "The address value was incomplete.", refers_to="Addresses[0]"),
        DataError,
        "InvalidAddress",
        id="invalid-address",
    ),
    pytest.param(
        400,
        _avatax("JurisdictionNotFoundError", "Unable to determine the taxing jurisdictions."),
        DataError,
        "JurisdictionNotFoundError",
        id="jurisdiction-not-found",
    ),
    pytest.param(
        400,
        _avatax("DocumentCodeConflict", "A committed transaction with code 'SO-1' already exists."),
        DataError,
        "DocumentCodeConflict",
        id="committed-code-reused",
    ),
    pytest.param(
        400,
        _avatax("CannotModifyLockedTransaction", "Modifying a locked document is not allowed."),
        ConflictError,
        "CannotModifyLockedTransaction",
        id="locked-document",
    ),
    pytest.param(
        401,
        _avatax("AuthenticationException", "Authentication failed."),
        AuthError,
        "AuthenticationException",
        id="authentication-failed",
    ),
    pytest.param(
        404,
        _avatax("EntityNotFoundError", "Company with ID 'ACME-XX' not found."),
        NotFoundError,
        "EntityNotFoundError",
        id="entity-not-found",
    ),
    pytest.param(
        429,
        _avatax("RateLimitExceededError", "Rate limit exceeded."),
        RateLimitedError,
        "RateLimitExceededError",
        id="rate-limit",
    ),
    pytest.param(
        500,
        _avatax("InternalServerError", "An internal server error occurred."),
        RetryableError,
        "InternalServerError",
        id="internal-server-error",
    ),
    pytest.param(
        503,
        _avatax("ServerUnreachable", "AvaTax server unable to reach data services"),
        RetryableError,
        "ServerUnreachable",
        id="server-unreachable",
    ),
    pytest.param(
        400,
        _avatax("SomeNewValidationCode", "Something else is wrong."),
        DataError,
        "SomeNewValidationCode",
        id="unknown-code-on-a-400",
    ),
]


@pytest.mark.parametrize(("status", "body", "expected", "code"), AVALARA)
def test_avalara_answers_become_the_error_that_says_what_to_do(
    status: int, body: dict[str, Any], expected: type[ConnectorError], code: str
) -> None:
    error = _classified(avalara.classify, _answer(status, body))
    assert type(error) is expected
    assert error.code == code
    assert error.status == status


def test_an_avatax_message_names_the_code_the_place_and_the_description() -> None:
    body = _avatax(
        "InvalidAddress",
        "The address value was incomplete.",
        "You must provide either a valid postal code, line1 + city + region.",
        refers_to="Addresses[0]",
    )
    error = _classified(avalara.classify, _answer(400, body))
    assert str(error) == (
        "AvaTax 400 InvalidAddress at Addresses[0]: The address value was incomplete. "
        "You must provide either a valid postal code, line1 + city + region."
    )


def test_a_throttling_code_in_an_avatax_detail_is_retried_whatever_the_status() -> None:
    body = _avatax("GetTaxError", "Tax calculation failed.")
    body["error"]["details"].append({"code": "RequestLimitExceeded", "message": "Slow down."})
    error = _classified(avalara.classify, _answer(400, body))
    assert type(error) is RateLimitedError
    assert error.code == "RequestLimitExceeded"


def test_an_avatax_429_waits_as_long_as_its_retry_after_asks() -> None:
    body = _avatax("RateLimitExceededError", "Rate limit exceeded.")
    error = _classified(avalara.classify, _answer(429, body, {"Retry-After": "3"}))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 3.0


def test_an_avatax_503_waits_as_long_as_its_retry_after_asks() -> None:
    body = _avatax("ServerUnreachable", "AvaTax server unable to reach data services")
    error = _classified(avalara.classify, _answer(503, body, {"Retry-After": "20"}))
    policy = RetryPolicy(max_attempts=5, base_delay_s=0.5, max_delay_s=10.0, jitter=False)
    assert decide(policy, 1, error, idempotent=True).delay_s == 20.0


@pytest.mark.parametrize("status", [200, 201])
def test_avalara_successes_are_not_errors(status: int) -> None:
    assert avalara.classify(_answer(status, {"id": 1, "code": "SO-1", "status": "Saved"})) is None


# -- the shared table (classification.py) ------------------------------------------------

RULES = (
    classification.Rule(ConflictError, classification.codes("DUPLICATE")),
    *classification.BY_STATUS,
)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, RateLimitedError),
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (400, DataError),
        (409, PermanentError),
        (422, PermanentError),
        (500, RetryableError),
        (503, RetryableError),
    ],
)
def test_a_status_alone_decides_when_no_code_rule_matches(
    status: int, expected: type[ConnectorError]
) -> None:
    rule = classification.rule_for(RULES, status, ["SOMETHING_ELSE"])
    assert rule is not None
    assert rule.error is expected


def test_a_vendor_code_is_checked_before_the_status() -> None:
    rule = classification.rule_for(RULES, 500, ["OTHER", "DUPLICATE"])
    assert rule is not None
    assert rule.error is ConflictError


def test_an_answer_no_rule_matches_is_a_permanent_error_for_a_person() -> None:
    response = _answer(302)
    error = classification.make_error(response, classification.rule_for(RULES, 302, []), [], "x")
    assert type(error) is PermanentError
    assert error.status == 302


def test_the_error_code_is_the_one_the_rule_matched_else_the_first() -> None:
    response = _answer(400)
    matched = classification.rule_for(RULES, 400, ["OTHER", "DUPLICATE"])
    by_status = classification.rule_for(RULES, 400, ["FIRST", "SECOND"])
    assert classification.make_error(response, matched, ["OTHER", "DUPLICATE"], "x").code == (
        "DUPLICATE"
    )
    assert classification.make_error(response, by_status, ["FIRST", "SECOND"], "x").code == "FIRST"


@pytest.mark.parametrize(("header", "seconds"), [("7", 7.0), ("1.5", 1.5), ("soon", None)])
def test_a_rate_limit_carries_the_retry_after_seconds_the_server_gave(
    header: str, seconds: float | None
) -> None:
    response = _answer(429, headers={"Retry-After": header})
    error = classification.make_error(
        response, classification.rule_for(RULES, 429, []), [], "slow down"
    )
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == seconds
    assert str(error) == "slow down"
