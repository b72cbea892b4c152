"""Decimals on the wire: JSON numbers whose text is exactly the decimal.

JSON APIs take amounts as numbers. A float prints as the shortest text that reads back
to it, which is the decimal itself whenever that has at most 15 significant digits, so
such a decimal is sent as that float (``12.50`` → ``12.5``); anything longer is refused
rather than rounded.
"""

from __future__ import annotations

from decimal import Decimal

from revbridge.errors import DataError

__all__ = ["json_number"]


def json_number(value: Decimal | int, *, code: str = "INEXACT_NUMBER", to: str = "") -> int | float:
    """``value`` as an exact JSON number; :class:`DataError` (``code``) when it cannot be."""
    if isinstance(value, int):
        return value
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    number = float(value)
    if Decimal(repr(number)) != value:
        where = f" to {to}" if to else ""
        raise DataError(f"{value} has too many digits to be sent{where} exactly", code=code)
    return number
