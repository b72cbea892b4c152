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
from dataclasses import dataclass
from typing import Any

import httpx

from revbridge.connectors.http import retry_after
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


@dataclass(frozen=True)
class Rule:
    """``error`` applies to an answer carrying one of ``codes`` or a status in ``statuses``."""

    error: type[ConnectorError]
    codes: frozenset[str] = frozenset()
    statuses: range = range(0)


def _codes(*codes: str) -> frozenset[str]:
    return frozenset(codes)


RULES: tuple[Rule, ...] = (
    Rule(
        RateLimitedError,
        _codes("RateLimitExceededError", "RateLimitExceeded", "RequestLimitExceeded"),
    ),
    Rule(
        RetryableError,
        _codes("InternalServerError", "RemoteServerError", "ServerUnreachable"),
    ),
    Rule(
        AuthError,
        _codes(
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
    Rule(NotFoundError, _codes("EntityNotFoundError")),
    # A document reported to a tax authority: finance must unlock or adjust it in AvaTax.
    Rule(ConflictError, _codes("CannotModifyLockedTransaction")),
    # Validation: addresses, jurisdictions, lines, required values, malformed models.
    Rule(
        DataError,
        _codes(
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
    Rule(RateLimitedError, statuses=range(429, 430)),
    Rule(AuthError, statuses=range(401, 402)),
    Rule(AuthError, statuses=range(403, 404)),
    Rule(NotFoundError, statuses=range(404, 405)),
    Rule(RetryableError, statuses=range(500, 600)),
    Rule(DataError, statuses=range(400, 401)),
    Rule(PermanentError, statuses=range(400, 500)),
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


def rule_for(status: int, codes: list[str]) -> Rule | None:
    for rule in RULES:
        if rule.codes & set(codes) or status in rule.statuses:
            return rule
    return None


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
    codes = error_codes(error)
    rule = rule_for(status, codes)
    error_class = rule.error if rule is not None else PermanentError
    matched = [c for c in codes if rule is not None and c in rule.codes]
    code = matched[0] if matched else (codes[0] if codes else "")
    message = describe(status, error)
    if issubclass(error_class, RateLimitedError):
        return error_class(message, retry_after=retry_after(response), code=code, status=status)
    return error_class(message, code=code, status=status)
