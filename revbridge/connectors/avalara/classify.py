"""AvaTax answers translated into revbridge errors: one declarative table.

An AvaTax failure is an ``ErrorResult``: ``{"error": {"code", "message", "target",
"details": [{"code", "number", "message", "description", "refersTo", "severity", ...}]}}``.
The first rule whose error code (the top-level one or any detail's) or HTTP status
matches decides the error class; codes are checked before statuses, so a throttling
answer is retried whatever status carries it. The revbridge error's ``code`` is the
AvaTax code (``JurisdictionNotFoundError``), which is what an exception case shows.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from revbridge.connectors.classification import BY_STATUS, Rule, codes, make_error, rule_for
from revbridge.errors import (
    AuthError,
    ConflictError,
    ConnectorError,
    DataError,
    NotFoundError,
    RateLimitedError,
    RetryableError,
)

RULES: tuple[Rule, ...] = (
    Rule(
        RateLimitedError,
        codes("RateLimitExceededError", "RateLimitExceeded", "RequestLimitExceeded"),
    ),
    Rule(
        RetryableError,
        codes("InternalServerError", "RemoteServerError", "ServerUnreachable"),
    ),
    Rule(
        AuthError,
        codes(
            "AuthenticationException",
            "AuthenticationIncomplete",
            "BasicAuthIncorrect",
            "AuthorizationException",
            "BearerTokenInvalid",
            "BearerTokenNotSupported",
            "AccountInvalidException",
            "SubscriptionRequired",
        ),
    ),
    Rule(NotFoundError, codes("EntityNotFoundError")),
    # A document reported to a tax authority: finance must unlock or adjust it in AvaTax.
    Rule(ConflictError, codes("CannotModifyLockedTransaction")),
    # Validation: addresses, jurisdictions, lines, required values, malformed models.
    Rule(
        DataError,
        codes(
            "InvalidAddress",
            "AddressIncomplete",
            "AddressConflictException",
            "MissingAddress",
            "JurisdictionNotFoundError",
            "MissingLine",
            "ValueRequiredError",
            "ModelStateInvalid",
            "ModelRequiredException",
            "JsonFormatError",
            "InvalidParameter",
            "InvalidEntry",
            "DateRangeError",
            "GetTaxError",
            "DocumentCodeConflict",
            "DuplicateEntry",
            "TransactionAlreadyCancelled",
            "EntityLimitExceeded",
        ),
    ),
    *BY_STATUS,
)


def error_info(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of an AvaTax error body; empty when the body is not AvaTax's."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def error_codes(error: dict[str, Any]) -> list[str]:
    """The top-level code first, then each detail's, without repeats."""
    details = error.get("details")
    found = [error.get("code")]
    if isinstance(details, list):
        found += [d.get("code") for d in details if isinstance(d, dict)]
    codes: list[str] = []
    for code in found:
        if isinstance(code, str) and code and code not in codes:
            codes.append(code)
    return codes


def describe(status: int, error: dict[str, Any]) -> str:
    """``AvaTax 400 InvalidAddress at Addresses[0]: The address value was incomplete. ...``."""
    details = error.get("details")
    first = details[0] if isinstance(details, list) and details else {}
    first = first if isinstance(first, dict) else {}
    code = error.get("code") or first.get("code") or "error"
    where = f" at {first['refersTo']}" if first.get("refersTo") else ""
    message = error.get("message") or first.get("message") or "no message"
    extra = first.get("description")
    text = f"AvaTax {status} {code}{where}: {message}"
    return f"{text} {extra}" if extra and extra != message else text


def classify(response: httpx.Response) -> ConnectorError | None:
    """The error ``response`` stands for, or None when it is a success."""
    status = response.status_code
    if status < 400:
        return None
    error = error_info(response)
    found = error_codes(error)
    return make_error(response, rule_for(RULES, status, found), found, describe(status, error))
