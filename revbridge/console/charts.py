"""Inline SVG charts, computed on the server: p50 and p95 bars per time bucket.

:func:`latency_chart` turns a :class:`~revbridge.service.figures.Series` into geometry
(rectangles, ticks, the target line) that ``_charts.html`` draws; no JavaScript.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from revbridge.console.rendering import duration
from revbridge.service.figures import Series

WIDTH, HEIGHT = 420, 200
OFF_SCALE = 4  # a target over 4 times the highest p95 is named, not drawn
LEFT, RIGHT, TOP, BOTTOM = 58, 8, 14, 24
#: Tick steps in seconds that read well as durations.
NICE_STEPS = (
    0.05,
    0.1,
    0.2,
    0.5,
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    14400,
    21600,
    43200,
    86400,
    172800,
    345600,
    604800,
)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    p50: list[Bar]
    p95: list[Bar]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    target_y: float | None
    target_label: str
    target_note: str  # the target when it is far above the data, so not drawn
    empty: bool


def _step(top: float) -> float:
    return next((s for s in NICE_STEPS if s * 4 >= top), NICE_STEPS[-1])


def _scale(series: Series) -> tuple[float, float, bool]:
    """(top of the axis, tick step, whether the target is drawn)."""
    target = series.target_p95_s
    data = max([p.p95 or 0.0 for p in series.points])
    drawn = target is not None and (data == 0 or target <= data * OFF_SCALE)
    highest = max(data, target if drawn and target is not None else 0.0)
    step = _step(highest * 1.05 or 1.0)
    return step * max(1, math.ceil(highest * 1.05 / step)), step, drawn


def _bars(series: Series, y: Callable[[float], float], slot: float) -> tuple[list[Bar], list[Bar]]:
    """The p50 and p95 bars, side by side in each bucket's slot; none for empty buckets."""
    width = max(1.0, min(18.0, slot * 0.36))
    base = HEIGHT - BOTTOM  # the x axis
    p50, p95 = [], []
    for i, point in enumerate(series.points):
        if point.p50 is None or point.p95 is None:
            continue
        centre = LEFT + slot * (i + 0.5)
        text = f"{point.start.strftime('%d %b %H:%M')}: {point.count} deal(s)"
        p50.append(
            Bar(
                centre - width,
                y(point.p50),
                width,
                base - y(point.p50),
                f"{text}, p50 {duration(point.p50)}",
            )
        )
        p95.append(
            Bar(
                centre,
                y(point.p95),
                width,
                base - y(point.p95),
                f"{text}, p95 {duration(point.p95)}",
            )
        )
    return p50, p95


def latency_chart(series: Series, bucket: timedelta) -> Chart:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top, step, drawn = _scale(series)

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * min(value, top) / top

    slot = plot_w / max(1, len(series.points))
    p50, p95 = _bars(series, y, slot)
    y_ticks = [
        (y(step * i), duration(step * i) if i else "0") for i in range(round(top / step) + 1)
    ]
    label = "%H:%M" if bucket < timedelta(days=1) else "%a %d"
    every = max(1, len(series.points) // 6)
    x_ticks = [
        (LEFT + slot * (i + 0.5), point.start.strftime(label))
        for i, point in enumerate(series.points)
        if i % every == 0
    ]
    target = series.target_p95_s
    named = "" if target is None else f"p95 target {duration(target)}"
    return Chart(
        WIDTH, HEIGHT, LEFT, TOP, plot_w, plot_h, p50, p95, y_ticks, x_ticks,
        y(target) if drawn and target is not None else None,
        named,
        "" if drawn or target is None else f"{named}: far above",
        not p50,
    )  # fmt: skip
