"""NetSuite answers translated into revbridge errors: one declarative table.

A NetSuite REST failure is ``{"type", "title", "status", "o:errorDetails": [{"detail",
"o:errorCode", "o:errorPath"?, ...}]}``. The first rule whose error code (any detail's)
or HTTP status matches decides the error class; codes are checked before statuses, so a
concurrency rejection reported as a 400 is still throttling. NetSuite sends no
``Retry-After``: throttling waits the policy's backoff unless a proxy adds the header.
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
)

RULES: tuple[Rule, ...] = (
    # The account's concurrency limit (REST 429; RESTlets and SOAP name it differently).
    Rule(
        RateLimitedError,
        codes(
            "CONCURRENCY_LIMIT_EXCEEDED",
            "SSS_REQUEST_LIMIT_EXCEEDED",
            "WS_REQUEST_BLOCKED",
            "WS_CONCUR_SESSION_DISALLWD",
        ),
    ),
    Rule(
        AuthError,
        codes(
            "INVALID_LOGIN",
            "INVALID_LOGIN_ATTEMPT",
            "INVALID_LOGIN_CREDENTIALS",
            "INSUFFICIENT_PERMISSION",
            "ACCOUNT_DISABLED",
        ),
    ),
    Rule(NotFoundError, codes("NONEXISTENT_ID", "RCRD_DSNT_EXIST")),
    # A duplicate of another record (duplicate detection): a person must merge or rename.
    Rule(ConflictError, codes("IDEMPOTENCY_ERROR", "RCRD_HAS_BEEN_CHANGED", "DUP_ENTITY")),
    # Validation: missing values, bad references, wrong shapes, duplicates.
    Rule(
        DataError,
        codes(
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
    *BY_STATUS,
)


def error_details(response: httpx.Response) -> list[dict[str, Any]]:
    """The ``o:errorDetails`` of an error body; empty when the body is not NetSuite's."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return []
    details = body.get("o:errorDetails") if isinstance(body, dict) else None
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


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
    found = [str(d.get("o:errorCode", "")) for d in details]
    return make_error(response, rule_for(RULES, status, found), found, describe(status, details))
