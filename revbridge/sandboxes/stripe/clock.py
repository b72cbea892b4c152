"""Sandbox time: the global clock (wall time plus an offset that only grows) and intervals.

Objects without a test clock live on the global clock, which ``POST
/_sandbox/clock/advance`` moves forward; objects of customers created with
``test_clock=clock_…`` live on that test clock's ``frozen_time`` instead.
"""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime

DAY = 86_400


class Clock:
    """Wall-clock seconds plus an offset; never runs backwards."""

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset

    def now(self) -> int:
        return int(time.time()) + self.offset

    def advance(self, seconds: int) -> int:
        self.offset += max(0, seconds)
        return self.now()


def add_interval(start: int, interval: str, count: int, anchor_day: int | None = None) -> int:
    """``start`` moved by ``count`` intervals; months keep the anchor's day, clamped.

    Stripe bills monthly subscriptions anchored on the 31st on the last day of
    shorter months, and returns to the 31st afterwards: ``anchor_day`` carries it.
    """
    if interval == "day":
        return start + count * DAY
    if interval == "week":
        return start + count * 7 * DAY
    moment = datetime.fromtimestamp(start, UTC)
    months = count * (12 if interval == "year" else 1)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(anchor_day or moment.day, calendar.monthrange(year, month)[1])
    moved = moment.replace(year=year, month=month, day=day)
    return int(moved.timestamp())
