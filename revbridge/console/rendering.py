"""Pages: the Jinja2 environment (autoescape on, undefined names are errors) and its filters.

Every value a template prints is HTML-escaped, and first made inert (:func:`inert`): a
character that would reorder or hide what an operator reads — a bidi embedding, override,
isolate or mark, a C0 or C1 control, a lone surrogate — is shown as its escape
(``\\u202e``), so a deal named ``invoice\\u202egpj.exe`` reads as such and not as
``invoiceexe.jpg``. The filters turn instants, ages, durations and amounts into the few
formats the console uses everywhere.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from revbridge.console.session import ConsoleUser

_HIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 (but tab and newlines), DEL, C1
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, overrides, isolates
    "\ud800-\udfff]"  # lone surrogates
)


def inert(value: Any) -> Any:
    """Text with its hidden characters shown as escapes (``\\u202e``); anything else as is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _HIDDEN.sub(lambda found: f"\\u{ord(found.group()):04x}", value)
    return value


env = Environment(
    loader=PackageLoader("revbridge.console", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=inert,
)


def duration(seconds: float | None) -> str:
    """``850 ms``, ``2.4 s``, ``12 s``, ``3 min 5 s``, ``2 h 10 min``, ``3 d 4 h``; ``—``: none."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    whole = int(seconds)
    if whole < 3600:
        return _two(whole // 60, "min", whole % 60, "s")
    if whole < 86400:
        return _two(whole // 3600, "h", whole % 3600 // 60, "min")
    return _two(whole // 86400, "d", whole % 86400 // 3600, "h")


def _two(big: int, big_unit: str, small: int, small_unit: str) -> str:
    return f"{big} {big_unit} {small} {small_unit}" if small else f"{big} {big_unit}"


def when(value: datetime | None) -> str:
    """An instant in UTC to the second: ``2026-11-28 14:03:07 UTC``."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(value: datetime | None) -> str:
    if value is None:
        return "—"
    return duration(max(0.0, (datetime.now(UTC) - value).total_seconds())) + " ago"


def money(amount: str | None, currency: str | None = None) -> str:
    """A stored decimal amount with thousands separators (Decimal, never float)."""
    if amount is None:
        return "—"
    try:
        value = Decimal(amount)
    except InvalidOperation:
        return amount
    return f"{value:,.2f} {currency or ''}".strip()


env.filters.update(duration=duration, when=when, ago=ago, money=money)


def page(
    request: Request,
    template: str,
    user: ConsoleUser | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """Render ``template`` with the base path, the signed-in user and ``values``."""
    html = env.get_template(template).render(
        base=request.scope.get("root_path", "").rstrip("/"),
        user=user,
        path=request.url.path,
        **values,
    )
    return HTMLResponse(html, status_code=status_code, headers=headers)
