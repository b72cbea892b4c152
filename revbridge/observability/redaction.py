"""Secret redaction: nothing secret reaches logs, errors, cases or the console."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "***"
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "stripe-signature",
        "webhook-signature",
        "x-hub-signature-256",
    }
)
SECRET_KEYS = re.compile(
    r"(secret|password|passwd|token|api[_-]?key|authorization|signature|client_secret|"
    r"license[_-]?key|private[_-]?key|assertion|refresh)",
    re.IGNORECASE,
)
_known: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is masked wherever it appears."""
    if value and len(value) >= 6:
        _known.add(value)


def register_secrets(values: Iterable[str | None]) -> None:
    for value in values:
        register_secret(value)


def scrub_text(text: str) -> str:
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def scrub(value: Any) -> Any:
    """Return a copy of ``value`` with secret keys masked and known secrets removed."""
    if isinstance(value, dict):
        return {
            k: MASK if isinstance(k, str) and SECRET_KEYS.search(k) and v else scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value


def headers(raw: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {k: MASK if k.lower() in SECRET_HEADERS else scrub_text(v) for k, v in raw}
