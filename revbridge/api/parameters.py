"""Path and query parameters the routes share: ids and search text are visible text.

An id in a path (``/v1/customers/{customer_id}``) or the search text ``q`` holding a
control or format character (NUL, ESC, U+202E …; see
:func:`revbridge.canonical.ids.check_id_characters`) is refused with a 422 naming the
parameter before any query runs: PostgreSQL cannot hold NUL in text, and a bidi override
would make the id read otherwise in the answer than in the request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator

from revbridge.canonical.ids import check_id_characters

PathId = Annotated[str, Path(min_length=1, max_length=255), AfterValidator(check_id_characters)]
"""An id in a path: a deal key, a case, customer or invoice id."""


def _visible_or_none(value: str | None) -> str | None:
    return None if value is None else check_id_characters(value)


SearchText = Annotated[str | None, Query(max_length=200), AfterValidator(_visible_or_none)]
"""What to search for: part of a name, an account or any system's id."""
