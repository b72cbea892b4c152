"""Salesforce's error shapes: the REST error array, collection item errors, fault bodies.

Top-level REST errors are a JSON array of ``{"message", "errorCode"[, "fields"]}`` with
the HTTP status; errors inside sObject Collections results use ``statusCode`` instead of
``errorCode`` and always carry ``fields``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

JSON_TYPE = "application/json;charset=UTF-8"

_FAULT_ERRORS: dict[int, tuple[str, str]] = {
    429: (
        "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
        "REQUEST_LIMIT_EXCEEDED",
    ),
    500: (
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
        "1204038416-71832 (-1104379845)",
        "UNKNOWN_EXCEPTION",
    ),
    502: ("Bad Gateway: the server is temporarily unavailable.", "SERVER_UNAVAILABLE"),
    503: (
        "Server is temporarily unavailable due to maintenance or overload. Try again later.",
        "SERVER_UNAVAILABLE",
    ),
    504: ("The request timed out. Try again later.", "REQUEST_RUNNING_TOO_LONG"),
}


class SalesforceError(Exception):
    """A request-level failure rendered as Salesforce's error array."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        fields: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields
        self.headers = headers or {}

    def rest_body(self) -> list[dict[str, Any]]:
        item: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]

    def item_error(self) -> dict[str, Any]:
        """The same error as one entry of a collection result's ``errors``."""
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields or []}

    def response(self) -> Response:
        return Response(
            json.dumps(self.rest_body()).encode(),
            status_code=self.status,
            headers=self.headers,
            media_type=JSON_TYPE,
        )


def bad_request(error_code: str, message: str, fields: list[str] | None = None) -> SalesforceError:
    return SalesforceError(400, error_code, message, fields)


def not_found(message: str = "The requested resource does not exist") -> SalesforceError:
    return SalesforceError(404, "NOT_FOUND", message)


def invalid_session() -> SalesforceError:
    return SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid")


def method_not_allowed(method: str, allowed: str) -> SalesforceError:
    return SalesforceError(
        405,
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{method}' not allowed. Allowed are {allowed}",
    )


def json_parser_error(detail: str) -> SalesforceError:
    return bad_request("JSON_PARSER_ERROR", detail)


def fault_error_body(status: int, retry_after_s: float | None) -> tuple[bytes, dict[str, str]]:
    """Render an injected fault the way Salesforce renders that status (no Retry-After)."""
    message, code = _FAULT_ERRORS.get(
        status, ("An unexpected error occurred on the server.", "UNKNOWN_EXCEPTION")
    )
    body = json.dumps([{"message": message, "errorCode": code}]).encode()
    return body, {"Content-Type": JSON_TYPE}
