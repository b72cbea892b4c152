"""NetSuite's REST error shape and the errors the sandbox raises.

Every failure is ``{"type", "title", "status", "o:errorDetails": [{"detail",
"o:errorCode", "o:errorPath"?, "o:errorHeader"?, "o:errorQueryParam"?, "o:urlPath"?}]}``
served as ``application/vnd.oracle.resource+json; type=error``. ``type`` points at the
HTTP spec section of the status: RFC 2616 URIs (older accounts, the documented examples)
or RFC 9110 URIs (accounts on current releases), chosen with ``error_type_style``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Literal

ErrorStyle = Literal["rfc2616", "rfc9110"]

ERROR_CONTENT_TYPE = "application/vnd.oracle.resource+json; type=error; charset=UTF-8"

_RFC2616 = "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10."
_RFC2616_SECTIONS = {
    400: "4.1",
    401: "4.2",
    403: "4.4",
    404: "4.5",
    405: "4.6",
    409: "4.10",
    413: "4.14",
    415: "4.16",
    500: "5.1",
    501: "5.2",
    502: "5.3",
    503: "5.4",
    504: "5.5",
}
_RFC9110 = "https://www.rfc-editor.org/rfc/rfc9110.html#section-15."
_RFC9110_SECTIONS = {
    400: "5.1",
    401: "5.2",
    403: "5.4",
    404: "5.5",
    405: "5.6",
    409: "5.10",
    413: "5.14",
    415: "5.16",
    500: "6.1",
    501: "6.2",
    502: "6.3",
    503: "6.4",
    504: "6.5",
}

INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI "
    "at Setup > Users/Roles > User Management > View Login Audit Trail."
)
CONCURRENCY_DETAIL = "Concurrent request limit exceeded. Request blocked."
ACCESS_PREFIX = "Error while accessing a resource. "


def problem_type(status: int, style: ErrorStyle) -> str:
    if status == 429:
        if style == "rfc9110":
            return "https://www.rfc-editor.org/rfc/rfc6585.html#section-4"
        return "https://tools.ietf.org/html/rfc6585#section-4"
    if style == "rfc9110":
        return _RFC9110 + _RFC9110_SECTIONS.get(status, "5.1")
    return _RFC2616 + _RFC2616_SECTIONS.get(status, "4.1")


@dataclass
class Detail:
    detail: str
    code: str
    path: str | None = None
    header: str | None = None
    query_param: str | None = None
    url_path: str | None = None

    def as_json(self) -> dict[str, str]:
        out = {"detail": self.detail, "o:errorCode": self.code}
        for key, value in (
            ("o:errorPath", self.path),
            ("o:errorHeader", self.header),
            ("o:errorQueryParam", self.query_param),
            ("o:urlPath", self.url_path),
        ):
            if value is not None:
                out[key] = value
        return out


@dataclass(eq=False)
class NsError(Exception):
    """A request NetSuite refuses: HTTP ``status`` with one or more details."""

    status: int
    details: list[Detail]
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status}: " + "; ".join(d.detail for d in self.details)

    def body(self, style: ErrorStyle) -> bytes:
        return render(self.status, self.details, style)


def render(status: int, details: list[Detail], style: ErrorStyle) -> bytes:
    payload = {
        "type": problem_type(status, style),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "o:errorDetails": [d.as_json() for d in details],
    }
    return json.dumps(payload).encode()


def error(status: int, code: str, detail: str, **where: str | None) -> NsError:
    return NsError(status, [Detail(detail, code, **where)])


def invalid_content(detail: str = "Invalid content in the request body.") -> NsError:
    return error(400, "INVALID_CONTENT", detail)


def invalid_value(path: str, name: str | None = None) -> NsError:
    """A value of the wrong type or shape, or not allowed in this context."""
    name = name or path.rsplit(".", 1)[-1]
    detail = (
        f"Invalid value for the resource or sub-resource field '{name}'. Provide a valid value."
    )
    return error(400, "INVALID_VALUE", detail, path=path)


def invalid_reference(path: str, name: str, value: str) -> NsError:
    """A reference to a record that does not exist or cannot be used here."""
    detail = (
        f"{ACCESS_PREFIX}You have entered an Invalid Field Value {value} "
        f"for the following field: {name}"
    )
    return error(400, "INVALID_CONTENT", detail, path=path)


def user_error(detail: str, path: str | None = None) -> NsError:
    return error(400, "USER_ERROR", ACCESS_PREFIX + detail, path=path)


def duplicate_record() -> NsError:
    """Another record of the type already has the external id (SuiteTalk's ``DUP_RCRD``)."""
    return error(400, "DUP_RCRD", ACCESS_PREFIX + "This record already exists.", path="externalId")


def missing_values(labels: list[str], path: str | None = None) -> NsError:
    return user_error(f"Please enter value(s) for: {', '.join(labels)}", path=path)


def not_found() -> NsError:
    detail = "The record instance does not exist. Provide a valid record instance ID."
    return error(404, "NONEXISTENT_ID", detail)


def unknown_record_type(record_type: str) -> NsError:
    return error(404, "NONEXISTENT_ID", f"Record type '{record_type}' does not exist.")


def invalid_login() -> NsError:
    return error(401, "INVALID_LOGIN", INVALID_LOGIN_DETAIL)


def concurrency_exceeded() -> NsError:
    return error(429, "CONCURRENCY_LIMIT_EXCEEDED", CONCURRENCY_DETAIL)


def invalid_parameter(param: str, detail: str) -> NsError:
    return error(400, "INVALID_PARAMETER", detail, query_param=param)


_INJECTED = {
    429: ("CONCURRENCY_LIMIT_EXCEEDED", CONCURRENCY_DETAIL),
    500: ("UNEXPECTED_ERROR", "An unexpected error occurred. Error ID: sandbox-injected"),
    502: ("UNEXPECTED_ERROR", "Bad gateway. The request could not be completed."),
    503: ("SERVICE_UNAVAILABLE", "The service is temporarily unavailable. Try again later."),
    504: ("UNEXPECTED_ERROR", "The request timed out."),
}


def injected_error_body(style: Callable[[], ErrorStyle]) -> InjectedErrorBody:
    return InjectedErrorBody(style)


@dataclass(frozen=True)
class InjectedErrorBody:
    """The ``error_body`` callback for injected faults (NetSuite sends no Retry-After)."""

    style: Callable[[], ErrorStyle]

    def __call__(self, status: int, retry_after_s: float | None) -> tuple[bytes, dict[str, str]]:
        code, detail = _INJECTED.get(status, ("UNEXPECTED_ERROR", HTTPStatus(status).phrase))
        body = render(status, [Detail(detail, code)], self.style())
        return body, {"Content-Type": ERROR_CONTENT_TYPE}
