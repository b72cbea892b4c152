"""Field values: JSON input coerced to Python by field type, and Python back to JSON.

Money and other decimals are kept as :class:`~decimal.Decimal` and written as JSON numbers
(currency always with 2 decimals), never through binary floats. Dates are ``YYYY-MM-DD``
and date-times ``2024-05-01T10:00:00.000+0000`` as the REST API writes them.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from revbridge_sandboxes.salesforce.errors import SalesforceError, bad_request, json_parser_error
from revbridge_sandboxes.salesforce.schema import TEXT_TYPES, Field

_MARK = "\x00n" + secrets.token_hex(6)
_RAW_RE = re.compile('"' + re.escape(json.dumps(_MARK)[1:-1]) + r'(-?[0-9.]+)"')
_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?)?$"
)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RawNumber:
    """A JSON number written exactly as ``text`` (no float rounding)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _default(obj: Any) -> Any:
    if isinstance(obj, RawNumber):
        return _MARK + obj.text
    if isinstance(obj, Decimal):
        return _MARK + _plain(obj)
    if isinstance(obj, datetime):
        return format_datetime(obj)
    if isinstance(obj, date):
        return obj.isoformat()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(payload: Any) -> bytes:
    """JSON with :class:`RawNumber`/``Decimal`` written as exact numbers."""
    text = json.dumps(payload, default=_default, separators=(",", ":"))
    if _MARK[2:] in text:
        text = _RAW_RE.sub(r"\1", text)
    return text.encode()


def _plain(d: Decimal) -> str:
    text = format(d, "f")
    return text if "." in text else text + ".0"


def format_datetime(value: datetime, zulu: bool = False) -> str:
    """``2024-05-01T10:00:00.000+0000`` (REST) or ``...000Z`` (change events)."""
    utc = value.astimezone(UTC)
    stamp = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}"
    return stamp + ("Z" if zulu else "+0000")


def now() -> datetime:
    """The current time at the millisecond precision Salesforce keeps."""
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def parse_datetime(text: str) -> datetime | None:
    m = _DATETIME_RE.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        value = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro)
    except ValueError:
        return None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 60 + int(digits[2:]))
        return (value.replace(tzinfo=UTC) - timedelta(minutes=offset)).replace(
            microsecond=micro // 1000 * 1000
        )
    return value.replace(tzinfo=UTC, microsecond=micro // 1000 * 1000)


def parse_date(text: str) -> date | None:
    parsed = parse_datetime(text) if len(text) > 10 else None
    if parsed is not None:
        return parsed.date()
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def to_json(f: Field, value: Any) -> Any:
    """The JSON form of a stored value of field ``f``."""
    if value is None:
        return None
    if f.type == "currency":
        return RawNumber(format(value.quantize(Decimal("0.01"), ROUND_HALF_UP), "f"))
    if f.type in ("double", "percent"):
        return RawNumber(_plain(value))
    if f.type == "datetime":
        return format_datetime(value)
    if f.type == "date":
        return value.isoformat()
    return value


def _deserialize_error(kind: str, value: Any) -> SalesforceError:
    if isinstance(value, dict):
        found = "START_OBJECT value {"
    elif isinstance(value, list):
        found = "START_ARRAY value ["
    elif isinstance(value, bool):
        found = f"VALUE_{str(value).upper()} value {str(value).lower()}"
    elif isinstance(value, str):
        found = f"VALUE_STRING value {value}"
    else:
        found = f"VALUE_NUMBER value {value}"
    return json_parser_error(
        f"Cannot deserialize instance of {kind} from {found} "
        "or request may be missing a required field"
    )


def coerce(f: Field, value: Any) -> Any:
    """The stored form of JSON ``value`` written to field ``f``; raises Salesforce's errors."""
    if value is None:
        return False if f.type == "boolean" else None
    if f.type in TEXT_TYPES or f.type == "reference":
        return _coerce_text(f, value)
    if f.type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _deserialize_error("boolean", value)
    if f.type in ("currency", "double", "percent", "int"):
        return _coerce_number(f, value)
    if f.type == "date":
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            raise _deserialize_error("date", value)
        return parsed
    if f.type == "datetime":
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None:
            raise _deserialize_error("datetime", value)
        return moment
    raise _deserialize_error(f.type, value)


def _coerce_text(f: Field, value: Any) -> str | None:
    if isinstance(value, dict | list):
        raise _deserialize_error("string", value)
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(value, Decimal):
        text = _plain(value) if value != value.to_integral_value() else str(int(value))
    if text == "":
        return None
    if f.length and len(text) > f.length and f.type not in ("reference", "picklist"):
        raise bad_request(
            "STRING_TOO_LONG",
            f"{f.display}: data value too large: {text} (max length={f.length})",
            [f.name],
        )
    if f.type == "email" and not _EMAIL_RE.match(text):
        raise bad_request(
            "INVALID_EMAIL_ADDRESS", f"{f.display}: invalid email address: {text}", [f.name]
        )
    if f.type == "picklist" and f.restricted and f.picklist and text not in f.picklist:
        raise bad_request(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{f.display}: bad value for restricted picklist field: {text}",
            [f.name],
        )
    return text


def _coerce_number(f: Field, value: Any) -> Decimal | int:
    kind = "int" if f.type == "int" else "double"
    if isinstance(value, bool | dict | list):
        raise _deserialize_error(kind, value)
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str | int | Decimal) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise _deserialize_error(kind, value)
    if f.type == "int":
        if number != number.to_integral_value():
            raise _deserialize_error("int", value)
        return int(number)
    digits = f.precision - f.scale if f.precision else 16
    if abs(number) >= Decimal(10) ** digits:
        raise bad_request(
            "NUMBER_OUTSIDE_VALID_RANGE",
            f"{f.display}: value outside of valid range on numeric field: {value}",
            [f.name],
        )
    return number.quantize(Decimal(1).scaleb(-f.scale), ROUND_HALF_UP)
