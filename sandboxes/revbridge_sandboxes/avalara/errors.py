"""AvaTax error bodies: ``{"error": {"code", "message", "target", "details": [...]}}``.

Every failure the emulator reports is an :class:`AvaTaxError`; its ``body()`` is the
``ErrorResult`` model of the AvaTax SDKs. Numbers and codes follow the ``ErrorCodeId``
enum; messages follow developer.avalara.com/avatax/errors/ where it documents them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

HELP_LINK = "http://developer.avalara.com/avatax/errors/"


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of ``error.details``."""

    code: str
    number: int
    message: str
    description: str
    refers_to: str | None = None
    fault_code: str = "Client"
    severity: str = "Error"

    def as_json(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "code": self.code,
            "number": self.number,
            "message": self.message,
            "description": self.description,
            "faultCode": self.fault_code,
            "helpLink": HELP_LINK + self.code,
        }
        if self.refers_to is not None:
            detail["refersTo"] = self.refers_to
        detail["severity"] = self.severity
        return detail


class AvaTaxError(Exception):
    """A request AvaTax refuses: HTTP status, error target and one or more details."""

    def __init__(self, status: int, target: str, details: list[ErrorDetail]) -> None:
        super().__init__(details[0].message)
        self.status = status
        self.target = target
        self.details = details

    @property
    def code(self) -> str:
        return self.details[0].code

    def body(self) -> dict[str, Any]:
        first = self.details[0]
        return {
            "error": {
                "code": first.code,
                "message": first.message,
                "target": self.target,
                "details": [d.as_json() for d in self.details],
            }
        }


def _one(status: int, target: str, detail: ErrorDetail) -> AvaTaxError:
    return AvaTaxError(status, target, [detail])


# --- authentication -------------------------------------------------------------------


def authentication_incomplete() -> AvaTaxError:
    return _one(
        401,
        "HttpRequestHeaders",
        ErrorDetail(
            "AuthenticationIncomplete",
            34,
            "Authentication Incomplete.",
            "You must provide an Authorization header of the type Basic or Bearer to "
            "authenticate correctly.",
            severity="Exception",
        ),
    )


def basic_auth_incorrect() -> AvaTaxError:
    return _one(
        401,
        "HttpRequestHeaders",
        ErrorDetail(
            "BasicAuthIncorrect",
            35,
            "Incorrect Base header format.",
            "The Basic header must be in the format 'Basic (Base64Encoded(value))' where "
            "Value is either 'username' + ':' + 'password' or 'accountid' + ':' + 'licensekey'.",
            severity="Exception",
        ),
    )


def authentication_failed() -> AvaTaxError:
    return _one(
        401,
        "HttpRequestHeaders",
        ErrorDetail(
            "AuthenticationException",
            30,
            "Authentication failed.",
            "Unable to authenticate the user or the account.",
            severity="Exception",
        ),
    )


# --- request shape --------------------------------------------------------------------


def model_required() -> AvaTaxError:
    return _one(
        400,
        "IncorrectData",
        ErrorDetail(
            "ModelRequiredException",
            38,
            "A required model was not provided.",
            "Please verify that your request included a request body in valid JSON format.",
            severity="Exception",
        ),
    )


def json_format(problem: str, line: int, column: int) -> AvaTaxError:
    return _one(
        400,
        "IncorrectData",
        ErrorDetail(
            "JsonFormatError",
            47,
            "The request body did not contain valid JSON.",
            f"At line {line} position {column}: {problem}",
        ),
    )


def model_state_invalid(path: str, value: Any, expected: str) -> ErrorDetail:
    shown = value if isinstance(value, str) else json.dumps(value, default=str)
    return ErrorDetail(
        "ModelStateInvalid",
        70,
        "Invalid JSON object.",
        f"The request body does not represent a valid JSON object.  The value '{shown}' "
        f"is not a valid '{expected}'.",
        refers_to=path,
    )


def value_required(path: str) -> ErrorDetail:
    field = path.rsplit(".", 1)[-1]
    return ErrorDetail(
        "ValueRequiredError",
        5,
        f"Field {field} is required.",
        f"Please provide a value for field {field}.",
        refers_to=path,
    )


def invalid_request(details: list[ErrorDetail]) -> AvaTaxError:
    return AvaTaxError(400, "IncorrectData", details)


# --- business rules -------------------------------------------------------------------


def entity_not_found(kind: str, ident: str) -> AvaTaxError:
    return _one(
        404,
        "HttpRequest",
        ErrorDetail(
            "EntityNotFoundError",
            4,
            f"{kind} with ID '{ident}' not found.",
            f"The {kind} with ID '{ident}' was not found.",
        ),
    )


def missing_line() -> AvaTaxError:
    return _one(
        400,
        "IncorrectData",
        ErrorDetail(
            "MissingLine",
            311,
            "Transactions must have at least one line.",
            "The CreateTransactionModel object must have an element called 'lines', with at "
            "least one valid line record.",
            refers_to="lines",
        ),
    )


def missing_address(line_number: str) -> AvaTaxError:
    return _one(
        400,
        "IncorrectData",
        ErrorDetail(
            "MissingAddress",
            304,
            "Transactions must have both an origin and destination address.",
            f"The line {line_number} must have both an origin and destination address.  You "
            "must either assign a 'SingleLocation' address or both a 'ShipFrom' and a "
            "'ShipTo' address.",
            refers_to=f"lines[{line_number}]",
        ),
    )


def invalid_address(shown: str, refers_to: str) -> AvaTaxError:
    return _one(
        400,
        "IncorrectData",
        ErrorDetail(
            "InvalidAddress",
            309,
            "The address value was incomplete.",
            f"The address value {shown} was incomplete. You must provide either a valid "
            "postal code, line1 + city + region, or line1 + postal code.",
            refers_to=refers_to,
        ),
    )


def jurisdiction_not_found(country: str, region: str, refers_to: str) -> AvaTaxError:
    return _one(
        400,
        "IncorrectData",
        ErrorDetail(
            "JurisdictionNotFoundError",
            130,
            "Unable to determine the taxing jurisdictions.",
            f"Tax jurisdiction not found for country '{country}', region '{region}'.",
            refers_to=refers_to,
        ),
    )


def document_code_conflict(company_code: str, code: str) -> AvaTaxError:
    return _one(
        400,
        "IncorrectData",
        ErrorDetail(
            "DocumentCodeConflict",
            303,
            f"A committed transaction with code '{code}' already exists.",
            f"The transaction code '{code}' of company '{company_code}' belongs to a "
            "committed transaction and may not be reused. Use CreateOrAdjustTransaction or "
            "AdjustTransaction to change it, or VoidTransaction to cancel it.",
            refers_to="code",
        ),
    )


def document_type_required(company_code: str, code: str) -> AvaTaxError:
    return _one(
        400,
        "IncorrectData",
        ErrorDetail(
            "DocumentCodeConflict",
            303,
            "Please specify DocumentType parameter",
            f"This API applies to a single document, but multiple documents exist for "
            f"company '{company_code}' and code '{code}'.  Please provide the DocumentType "
            "parameter to distinguish between them.",
        ),
    )


def locked_transaction(transaction_id: int) -> AvaTaxError:
    return _one(
        400,
        "IncorrectData",
        ErrorDetail(
            "CannotModifyLockedTransaction",
            1100,
            "Modifying a locked document is not allowed.",
            f"Document {transaction_id} is locked. Modification is not allowed.",
        ),
    )


def already_cancelled(code: str) -> AvaTaxError:
    return _one(
        400,
        "IncorrectData",
        ErrorDetail(
            "TransactionAlreadyCancelled",
            198,
            "The transaction has already been cancelled.",
            f"The transaction '{code}' is already in a 'Cancelled' status. There is nothing "
            "to be done.",
        ),
    )


def unhandled() -> AvaTaxError:
    return _one(
        500,
        "AvaTaxApiServer",
        ErrorDetail(
            "InternalServerError",
            209,
            "An internal server error occurred.",
            "This error has been logged and reported to Avalara system administrators.  No "
            "action is required.",
            fault_code="Server",
            severity="Exception",
        ),
    )


# --- injected faults ------------------------------------------------------------------

_FAULTS: dict[int, tuple[str, ErrorDetail]] = {
    429: (
        "HttpRequest",
        ErrorDetail(
            "RateLimitExceededError",
            1723,
            "Rate limit exceeded.",
            "Your account has exceeded its API request rate limit. Please retry later.",
        ),
    ),
    502: (
        "AvaTaxApiServer",
        ErrorDetail(
            "RemoteServerError",
            44,
            "A remote server did not respond to this request.",
            "A server AvaTax depends on did not respond. Please retry later.",
            fault_code="Server",
        ),
    ),
    503: (
        "AvaTaxApiServer",
        ErrorDetail(
            "ServerUnreachable",
            500,
            "AvaTax server unable to reach data services",
            "This error has been logged and reported to Avalara system administrators.  No "
            "action is required.",
            fault_code="Server",
        ),
    ),
}

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def fault_error_body(status: int, retry_after_s: float | None) -> tuple[bytes, dict[str, str]]:
    """Render an injected fault as AvaTax would answer it (``Retry-After`` on 429/503)."""
    if status in _FAULTS:
        target, detail = _FAULTS[status]
        error = AvaTaxError(status, target, [detail])
    elif status >= 500:
        error = unhandled()
    else:
        detail = ErrorDetail("InvalidParameter", 1734, "Invalid parameter.", "The request failed.")
        error = AvaTaxError(status, "HttpRequest", [detail])
    headers = dict(JSON_HEADERS)
    if status in (429, 503) and retry_after_s is not None:
        headers["Retry-After"] = str(max(0, math.ceil(retry_after_s)))
    return json.dumps(error.body(), separators=(",", ":")).encode(), headers
