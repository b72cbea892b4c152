"""JSON payloads from outside, read strictly before anything else looks at them.

:func:`read_json` is how every HTTP face of revbridge (the API's gate and routes, the
change webhooks) turns a body into JSON. It refuses, naming where the fault is:

- bytes that are not UTF-8 (RFC 8259 §8.1), UTF-8-encoded surrogates included;
- text that is not JSON, ``NaN`` and ``Infinity`` and numbers too large for a float included;
- arrays and objects nested more than :data:`MAX_DEPTH` levels deep;
- strings (values or keys) holding a lone surrogate such as ``"\\ud800"``: it is not
  Unicode, so neither UTF-8 nor PostgreSQL can hold it;

with :class:`MalformedPayloadError` (answered 400), and strings holding NUL (``"\\u0000"``,
which PostgreSQL cannot store in text or jsonb) with :class:`UnstorableTextError`
(answered 422 naming the field).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MalformedPayloadError",
    "PayloadError",
    "UnstorableTextError",
    "declares_json",
    "read_json",
]

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted; real events stay under 15."""

_SURROGATE = re.compile("[\ud800-\udfff]")
Location = tuple[str | int, ...]


class PayloadError(ValueError):
    """A body revbridge will not read. A fault in a string is located: ``loc`` is the path
    to it (``("data", "object", "name")``), empty for the body itself."""

    def __init__(self, reason: str, loc: Location = (), *, in_text: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.loc, self.in_text = reason, loc, in_text

    @property
    def field(self) -> str:
        """The path to the fault, dotted (``data.object.name``), or ``""``."""
        return ".".join(str(part) for part in self.loc)

    @property
    def detail(self) -> str:
        """``data.object.name holds a lone surrogate \\ud800``; the reason when not located."""
        return f"{self.field or 'the body'} {self.reason}" if self.in_text else self.reason


class MalformedPayloadError(PayloadError):
    """Not UTF-8, not JSON, nested too deep or not Unicode: the sender has to fix it."""


class UnstorableTextError(PayloadError):
    """Well-formed JSON whose text holds a character revbridge does not store (NUL)."""


class _TooDeepError(MalformedPayloadError):
    def __init__(self) -> None:
        super().__init__(f"the body is nested deeper than {MAX_DEPTH} levels")


def declares_json(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` says JSON: ``application/json`` or ``application/*+json``."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def read_json(body: bytes) -> Any:
    """The JSON value of ``body``; :class:`PayloadError` when it is not one revbridge reads."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayloadError(
            f"the body is not UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start})"
        ) from None
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise _TooDeepError from None
    except json.JSONDecodeError as exc:
        raise MalformedPayloadError(
            f"the body is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:
        raise MalformedPayloadError(f"the body is not valid JSON ({exc})") from None
    _check(value, 0)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"the number {text[:40]} is too large")
    return number


def _check(value: Any, depth: int) -> None:
    """Raise at the first string revbridge cannot keep, or when nested too deep."""
    if isinstance(value, str):
        _check_text(value)
        return
    if isinstance(value, dict):
        items: list[tuple[str | int, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return
    if depth >= MAX_DEPTH:
        raise _TooDeepError
    for key, item in items:
        if isinstance(key, str):
            _check_text(key, "has a key that ")  # located at its object: the key is unprintable
        try:
            _check(item, depth + 1)
        except _TooDeepError:
            raise
        except PayloadError as exc:
            exc.loc = (key, *exc.loc)
            raise


def _check_text(text: str, holder: str = "") -> None:
    if "\x00" in text:
        reason = f"{holder}holds NUL (\\u0000), which revbridge does not store"
        raise UnstorableTextError(reason, in_text=True)
    if not text.isascii():
        found = _SURROGATE.search(text)
        if found is not None:
            code = ord(found.group())
            reason = f"{holder}holds a lone surrogate \\u{code:04x}"
            raise MalformedPayloadError(reason, in_text=True)
