"""Salesforce answers → revbridge errors: one declarative table, read top to bottom.

Salesforce reports a failed REST call as a JSON array ``[{"errorCode", "message",
"fields"}]`` with the HTTP status, a failed item of an sObject Collections call as
``{"success": false, "errors": [{"statusCode", ...}]}`` inside an HTTP 200, and a failed
OAuth token request as ``{"error", "error_description"}``. The vendor code decides first
(``REQUEST_LIMIT_EXCEEDED`` arrives as a 403), then the HTTP status. Salesforce sends no
``Retry-After``; one is honoured if a proxy in front of it adds one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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

ErrorClass = type[ConnectorError]

#: Vendor error code → what the caller should do. Checked before the HTTP status.
BY_CODE: Mapping[str, ErrorClass] = {
    # credentials (a 401 reaches here only after the one token refresh failed)
    "INVALID_SESSION_ID": AuthError,
    "INVALID_AUTH_HEADER": AuthError,
    "invalid_grant": AuthError,
    "invalid_client": AuthError,
    "invalid_client_id": AuthError,
    "unsupported_grant_type": AuthError,
    "INSUFFICIENT_ACCESS": AuthError,
    "INSUFFICIENT_ACCESS_OR_READONLY": AuthError,
    "API_DISABLED_FOR_ORG": AuthError,
    # throttling and contention: try again later
    "REQUEST_LIMIT_EXCEEDED": RateLimitedError,
    "UNABLE_TO_LOCK_ROW": RetryableError,
    "SERVER_UNAVAILABLE": RetryableError,
    "UNKNOWN_EXCEPTION": RetryableError,
    "REQUEST_RUNNING_TOO_LONG": RetryableError,
    "QUERY_TIMEOUT": RetryableError,
    # the record is not there
    "NOT_FOUND": NotFoundError,
    "ENTITY_IS_DELETED": NotFoundError,
    # the org already holds a conflicting record
    "DUPLICATE_VALUE": ConflictError,
    "DUPLICATES_DETECTED": ConflictError,
    "MULTIPLE_RECORDS_FOUND": ConflictError,
    # the data was refused
    "REQUIRED_FIELD_MISSING": DataError,
    "INVALID_FIELD": DataError,
    "INVALID_FIELD_FOR_INSERT_UPDATE": DataError,
    "MALFORMED_ID": DataError,
    "MALFORMED_QUERY": DataError,
    "INVALID_TYPE": DataError,
    "INVALID_CROSS_REFERENCE_KEY": DataError,
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": DataError,
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": DataError,
    "FIELD_INTEGRITY_EXCEPTION": DataError,
    "STRING_TOO_LONG": DataError,
    "NUMBER_OUTSIDE_VALID_RANGE": DataError,
    "JSON_PARSER_ERROR": DataError,
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY": DataError,
}

#: HTTP status → what the caller should do, when the code did not decide.
BY_STATUS: Mapping[int, ErrorClass] = {
    300: ConflictError,  # an external id matched more than one record
    400: DataError,
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    405: DataError,
    409: ConflictError,
    415: DataError,
    429: RateLimitedError,
}

#: Item codes that only say "another item failed" in an all-or-none collection call.
ROLLED_BACK = "ALL_OR_NONE_OPERATION_ROLLED_BACK"


def classify(response: httpx.Response) -> ConnectorError | None:
    """The error ``response`` stands for, or None when it is a success."""
    status = response.status_code
    if status < 300:
        failed = _failed_item(_json(response))
        if failed is None:
            return None
        return error_for(status, failed[0], failed[1], response)
    code, message = _vendor_error(_json(response))
    return error_for(status, code, message, response)


def error_for(
    status: int, code: str, message: str, response: httpx.Response | None = None
) -> ConnectorError:
    """The revbridge error for a vendor ``code`` (may be empty) answered with ``status``."""
    cls = BY_CODE.get(code) or BY_STATUS.get(status)
    if cls is None:
        cls = RetryableError if status >= 500 else PermanentError
    text = f"salesforce {code or status}: {message}" if message else f"salesforce {code or status}"
    if issubclass(cls, RetryableError):
        wait = retry_after(response) if response is not None else None
        return cls(text, retry_after=wait, code=code, status=status)
    return cls(text, code=code, status=status)


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return None


def _vendor_error(body: Any) -> tuple[str, str]:
    """``(code, message)`` of a REST error array or an OAuth error object."""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        first = body[0]
        code = first.get("errorCode") or first.get("statusCode") or ""
        return str(code), str(first.get("message") or first.get("error") or "")
    if isinstance(body, dict) and "error" in body:
        return str(body["error"]), str(body.get("error_description") or "")
    return "", ""


def _failed_item(body: Any) -> tuple[str, str] | None:
    """The first real item error of a collection result, or None when every item succeeded."""
    if not isinstance(body, list):
        return None
    errors = [
        error
        for item in body
        if isinstance(item, dict) and item.get("success") is False
        for error in item.get("errors") or [{}]
    ]
    if not errors:
        return None
    real = [e for e in errors if e.get("statusCode") != ROLLED_BACK] or errors
    return str(real[0].get("statusCode") or ""), str(real[0].get("message") or "")
