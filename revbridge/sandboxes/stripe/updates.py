"""How Stripe applies update params to an object: set, unset with ``""``, merge metadata."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from revbridge.sandboxes.stripe.tables import Record

ADDRESS_KEYS = ("city", "country", "line1", "line2", "postal_code", "state")


def metadata(current: dict[str, str] | None, value: dict[str, str] | None) -> dict[str, str]:
    """Merge ``metadata[k]=v`` into the current metadata; ``""`` values delete keys."""
    if value is None:
        return {}
    merged = dict(current or {})
    for key, item in value.items():
        if item == "":
            merged.pop(key, None)
        else:
            merged[key] = item
    return merged


def address(current: dict[str, Any] | None, value: dict[str, Any] | None) -> dict[str, Any] | None:
    """An address hash with every key present, merged over the current one."""
    if value is None:
        return None
    merged = dict(current or dict.fromkeys(ADDRESS_KEYS))
    merged.update(value)
    return {k: merged.get(k) for k in ADDRESS_KEYS}


def assign(record: Record, params: dict[str, Any], fields: Iterable[str]) -> None:
    """Copy the given ``fields`` present in ``params`` (``None`` unsets)."""
    for name in fields:
        if name in params:
            record[name] = params[name]


def apply_metadata(record: Record, params: dict[str, Any]) -> None:
    if "metadata" in params:
        record["metadata"] = metadata(record.get("metadata"), params["metadata"])
