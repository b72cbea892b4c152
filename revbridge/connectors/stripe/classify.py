"""Stripe answers translated into revbridge errors: one declarative table.

A Stripe failure is ``{"error": {"type", "code", "message", "param", ...}}``. The first
rule whose status, type and code all match decides the error class. Then Stripe's own
``Stripe-Should-Retry`` header, when present, has the last word on whether the call may be
retried, as the official SDKs do: ``false`` (for instance a failure saved under an
idempotency key, which would only be replayed) makes a retryable error permanent, ``true``
makes a permanent one retryable. Stripe sends no ``Retry-After``, even on 429; the retry
policy's backoff applies.
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
    """``error`` applies when each given criterion matches (an empty one matches all)."""

    error: type[ConnectorError]
    statuses: frozenset[int] | range = frozenset()
    types: frozenset[str] = frozenset()
    codes: frozenset[str] = frozenset()

    def matches(self, status: int, error_type: str, code: str) -> bool:
        return (
            (not self.statuses or status in self.statuses)
            and (not self.types or error_type in self.types)
            and (not self.codes or code in self.codes)
        )


RULES: tuple[Rule, ...] = (
    # Too many requests: a 429, or a 400 whose code says so (Stripe's SDKs read both).
    Rule(RateLimitedError, statuses=frozenset({429})),
    Rule(RateLimitedError, codes=frozenset({"rate_limit"})),
    Rule(AuthError, statuses=frozenset({401, 403})),
    # Another request with the same idempotency key is still running, or a lock timed out.
    Rule(RetryableError, statuses=frozenset({409})),
    # The same idempotency key was used with other parameters or on another endpoint.
    Rule(ConflictError, types=frozenset({"idempotency_error"})),
    Rule(NotFoundError, statuses=frozenset({404})),
    Rule(DataError, statuses=frozenset({402})),  # card_error: declined, expired …
    Rule(RetryableError, statuses=range(500, 600)),
    Rule(DataError, statuses=frozenset({400})),  # invalid_request_error
)


def error_fields(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of a Stripe error body; empty when the body is not Stripe's."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def rule_for(status: int, error_type: str, code: str) -> Rule | None:
    return next((rule for rule in RULES if rule.matches(status, error_type, code)), None)


def describe(status: int, fields: dict[str, Any]) -> str:
    """``stripe 400 invalid_request_error/resource_missing: No such price … (param: items)``."""
    kind = "/".join(str(fields[k]) for k in ("type", "code") if fields.get(k))
    message = fields.get("message") or "error without a message"
    where = f" (param: {fields['param']})" if fields.get("param") else ""
    return f"stripe {status} {kind or 'error'}: {message}{where}"


def _should_retry(response: httpx.Response) -> bool | None:
    value = response.headers.get("stripe-should-retry")
    return None if value is None else value.strip().lower() == "true"


def classify(response: httpx.Response) -> ConnectorError | None:
    """The error ``response`` stands for, or None when it is a success."""
    status = response.status_code
    if status < 400:
        return None
    fields = error_fields(response)
    error_type, code = str(fields.get("type") or ""), str(fields.get("code") or "")
    rule = rule_for(status, error_type, code)
    error_class = rule.error if rule is not None else PermanentError
    verdict = _should_retry(response)
    if verdict is False and issubclass(error_class, RetryableError):
        error_class = PermanentError
    elif verdict is True and not issubclass(error_class, RetryableError):
        error_class = RetryableError
    message = describe(status, fields)
    details: dict[str, Any] = {"code": code or error_type, "status": status}
    if issubclass(error_class, RetryableError):
        return error_class(message, retry_after=retry_after(response), **details)
    return error_class(message, **details)
