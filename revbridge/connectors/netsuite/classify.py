"""NetSuite answers translated into revbridge errors: one declarative table.

A NetSuite REST failure is ``{"type", "title", "status", "o:errorDetails": [{"detail",
"o:errorCode", "o:errorPath"?, ...}]}``. The first rule whose error code (any detail's)
or HTTP status matches decides the error class; codes are checked before statuses, so a
concurrency rejection reported as a 400 is still throttling. NetSuite sends no
``Retry-After``: throttling waits the policy's backoff unless a proxy adds the header.
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
    """``error`` applies when a detail carries one of ``codes`` or the status is in ``statuses``."""

    error: type[ConnectorError]
    codes: frozenset[str] = frozenset()
    statuses: range = range(0)


def _codes(*codes: str) -> frozenset[str]:
    return frozenset(codes)


RULES: tuple[Rule, ...] = (
    # The account's concurrency limit (REST 429; RESTlets and SOAP name it differently).
    Rule(
        RateLimitedError,
        _codes(
            "CONCURRENCY_LIMIT_EXCEEDED",
            "SSS_REQUEST_LIMIT_EXCEEDED",
            "WS_REQUEST_BLOCKED",
            "WS_CONCUR_SESSION_DISALLWD",
        ),
    ),
    Rule(
        AuthError,
        _codes(
            "INVALID_LOGIN",
            "INVALID_LOGIN_ATTEMPT",
            "INVALID_LOGIN_CREDENTIALS",
            "INSUFFICIENT_PERMISSION",
            "ACCOUNT_DISABLED",
        ),
    ),
    Rule(NotFoundError, _codes("NONEXISTENT_ID", "RCRD_DSNT_EXIST")),
    # A duplicate of another record (duplicate detection): a person must merge or rename.
    Rule(ConflictError, _codes("IDEMPOTENCY_ERROR", "RCRD_HAS_BEEN_CHANGED", "DUP_ENTITY")),
    # Validation: missing values, bad references, wrong shapes, duplicates.
    Rule(
        DataError,
        _codes(
            "USER_ERROR",
            "INVALID_KEY_OR_REF",
            "INVALID_VALUE",
            "INVALID_CONTENT",
            "INVALID_PARAMETER",
            "INVALID_REQUEST",
            "INVALID_HEADER",
            "INVALID_FLD_VALUE",
            "INVALID_TRANSFORM",
            "DUP_RCRD",
            "UNIQUE_CUST_ID_REQD",
            "INVALID_METHOD",
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


def error_details(response: httpx.Response) -> list[dict[str, Any]]:
    """The ``o:errorDetails`` of an error body; empty when the body is not NetSuite's."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return []
    details = body.get("o:errorDetails") if isinstance(body, dict) else None
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def rule_for(status: int, codes: list[str]) -> Rule | None:
    for rule in RULES:
        if rule.codes & set(codes) or status in rule.statuses:
            return rule
    return None


def describe(status: int, details: list[dict[str, Any]]) -> str:
    """``netsuite 400 USER_ERROR at department: Please enter value(s) for: Department``."""
    parts = []
    for detail in details:
        where = f" at {detail['o:errorPath']}" if detail.get("o:errorPath") else ""
        parts.append(f"{detail.get('o:errorCode', 'ERROR')}{where}: {detail.get('detail', '')}")
    return f"netsuite {status} " + ("; ".join(parts) if parts else "error without details")


def classify(response: httpx.Response) -> ConnectorError | None:
    """The error ``response`` stands for, or None when it is a success."""
    status = response.status_code
    if status < 400:
        return None
    details = error_details(response)
    codes = [str(d.get("o:errorCode", "")) for d in details]
    rule = rule_for(status, codes)
    error_class = rule.error if rule is not None else PermanentError
    code = next(
        (c for c in codes if rule is not None and c in rule.codes), codes[0] if codes else ""
    )
    message = describe(status, details)
    if issubclass(error_class, RateLimitedError):
        return error_class(message, retry_after=retry_after(response), code=code, status=status)
    return error_class(message, code=code, status=status)
