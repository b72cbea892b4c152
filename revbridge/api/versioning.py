"""Versions and deprecation: everything lives under ``/v1``; retiring a route is announced.

A breaking change gets a new prefix (``/v2``) and ``/v1`` keeps working side by side. A
route due to go away is marked with :func:`deprecated`: it is flagged ``deprecated`` in
the OpenAPI document and every answer carries ``Deprecation`` (RFC 9745, the date it
was deprecated), ``Sunset`` (RFC 8594, the date it stops answering) and a ``Link`` to its
successor. The sunset is at least six months after the deprecation. No route is
deprecated today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any

from fastapi import Depends, Response

PREFIX = "/v1"


def _http_date(day: date) -> str:
    return format_datetime(datetime(day.year, day.month, day.day, tzinfo=UTC), usegmt=True)


def deprecated(since: date, sunset: date, successor: str | None = None) -> dict[str, Any]:
    """Route keyword arguments marking a route deprecated:
    ``@router.get("/old", **deprecated(date(2027, 1, 1), date(2027, 7, 1), "/v1/new"))``."""
    if (sunset - since).days < 180:
        raise ValueError("a sunset comes at least six months after the deprecation")

    def headers(response: Response) -> None:
        response.headers["Deprecation"] = (
            f"@{int(datetime(since.year, since.month, since.day, tzinfo=UTC).timestamp())}"
        )
        response.headers["Sunset"] = _http_date(sunset)
        if successor:
            response.headers["Link"] = f'<{successor}>; rel="successor-version"'

    return {"deprecated": True, "dependencies": [Depends(headers)]}
