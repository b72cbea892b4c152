"""What every canonical model shares: immutability, a closed shape, UTC instants, text.

``CanonicalModel`` is the base of every model in this package: frozen (change one with
``model_copy(update=...)``), unknown fields rejected, and enum members kept as members.

``Instant`` is the type of every point in time: a timezone-aware ``datetime`` normalised to
UTC. A naive datetime is rejected, because nobody can tell which instant it meant. Calendar
days (contract start, due date) are plain ``datetime.date`` values and carry no zone.

``Name`` and ``Text`` are the non-empty strings most fields use (short labels, free text).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

__all__ = ["CanonicalModel", "Instant", "Name", "Text", "utc_now"]


class CanonicalModel(BaseModel):
    """Base class of the canonical models: frozen, closed, validated on construction."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_default=True,
    )


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise PydanticCustomError(
            "naive_datetime",
            "an instant must carry a timezone (e.g. 2025-01-31T09:30:00Z); got a naive datetime",
        )
    return value.astimezone(UTC)


Instant = Annotated[datetime, AfterValidator(_to_utc)]
"""A timezone-aware datetime, normalised to UTC; naive datetimes are rejected."""


def utc_now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
"""A short non-empty label: a name, an address line, a tax id, a reason."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
"""Non-empty free text for people to read: a description, an event subject."""
