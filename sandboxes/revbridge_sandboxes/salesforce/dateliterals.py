"""SOQL date literals (``TODAY``, ``LAST_N_DAYS:30``, ``THIS_QUARTER``...) as date ranges.

A literal stands for a half-open range ``[start, end)`` of dates (UTC, weeks starting on
Sunday as in the en_US locale); ``field = LITERAL`` means inside the range, ``<`` before
its start, ``>`` after its end.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

_FIXED = {
    "YESTERDAY": (-1, 0),
    "TODAY": (0, 1),
    "TOMORROW": (1, 2),
    "LAST_90_DAYS": (-90, 1),
    "NEXT_90_DAYS": (1, 91),
}


def date_range(name: str, n: int | None, today: date | None = None) -> tuple[date, date] | None:
    """The ``[start, end)`` range of a date literal, or None when it is not one."""
    today = today or datetime.now(UTC).date()
    if name in _FIXED and n is None:
        lo, hi = _FIXED[name]
        return today + timedelta(days=lo), today + timedelta(days=hi)
    if n is not None:
        return _parametrised(name, n, today)
    prefix, _, unit = name.partition("_")
    if prefix not in ("LAST", "THIS", "NEXT") or unit not in ("WEEK", "MONTH", "QUARTER", "YEAR"):
        return None
    shift = {"LAST": -1, "THIS": 0, "NEXT": 1}[prefix]
    start, months = _period_start(unit, today)
    if unit == "WEEK":
        start += timedelta(weeks=shift)
        return start, start + timedelta(weeks=1)
    start = add_months(start, shift * months)
    return start, add_months(start, months)


def _period_start(unit: str, today: date) -> tuple[date, int]:
    if unit == "WEEK":
        return today - timedelta(days=(today.weekday() + 1) % 7), 0
    if unit == "MONTH":
        return today.replace(day=1), 1
    if unit == "QUARTER":
        return date(today.year, (today.month - 1) // 3 * 3 + 1, 1), 3
    return date(today.year, 1, 1), 12


def _parametrised(name: str, n: int, today: date) -> tuple[date, date] | None:
    day = timedelta(days=1)
    if name == "LAST_N_DAYS":
        return today - n * day, today + day
    if name == "NEXT_N_DAYS":
        return today + day, today + (n + 1) * day
    if name == "N_DAYS_AGO":
        return today - n * day, today - (n - 1) * day
    month_start = today.replace(day=1)
    if name == "LAST_N_MONTHS":
        return add_months(month_start, -n), month_start
    if name == "NEXT_N_MONTHS":
        return add_months(month_start, 1), add_months(month_start, n + 1)
    return None


def add_months(start: date, months: int) -> date:
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
