"""In-memory tables of records (O(1) reads by id, creation order) and Stripe-style ids.

Ids look like Stripe's: ``cus_…``/``prod_…`` (14 random characters), ``price_1…``,
``sub_1…``, ``in_1…`` (``1`` + 23), ``req_…`` for requests, ``whsec_…`` for secrets.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from typing import Any

from revbridge_sandboxes.stripe.errors import StripeError

Record = dict[str, Any]

_ALPHABET = string.ascii_letters + string.digits
_RNG = random.SystemRandom()

#: Prefix → length of the random part, as in ids Stripe hands out today.
_LENGTHS = {
    "cus": 14,
    "prod": 14,
    "si": 14,
    "req": 14,
    "mtr": 24,
}


def _random(n: int) -> str:
    return "".join(_RNG.choices(_ALPHABET, k=n))


def new_id(prefix: str) -> str:
    """A fresh id: short ones for customers/products, ``1…`` + 23 for the rest."""
    n = _LENGTHS.get(prefix)
    if n is not None:
        return f"{prefix}_{_random(n)}"
    return f"{prefix}_1{_random(23)}"


def new_request_id() -> str:
    return new_id("req")


def new_secret(prefix: str = "whsec", n: int = 32) -> str:
    return f"{prefix}_{_random(n)}"


def new_token(n: int) -> str:
    return _random(n)


class Table:
    """Records of one object type; ``newest_first`` walks creation order backwards."""

    def __init__(self, name: str, noun: str) -> None:
        self.name = name
        self.noun = noun
        self.rows: dict[str, Record] = {}
        self._order: list[str | None] = []
        self._pos: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, record: Record, key: str | None = None) -> Record:
        key = key or record["id"]
        self.rows[key] = record
        self._pos[key] = len(self._order)
        self._order.append(key)
        return record

    def get(self, key: str) -> Record | None:
        return self.rows.get(key)

    def require(self, key: Any, param: str = "id") -> Record:
        record = self.rows.get(key) if isinstance(key, str) else None
        if record is None:
            raise StripeError.no_such(self.noun, str(key), param)
        return record

    def remove(self, key: str) -> None:
        if self.rows.pop(key, None) is not None:
            self._order[self._pos.pop(key)] = None

    def position(self, key: str) -> int | None:
        return self._pos.get(key)

    def newest_first(self, before: int | None = None) -> Iterator[Record]:
        """Records created before position ``before`` (all when None), newest first."""
        start = len(self._order) if before is None else before
        for index in range(start - 1, -1, -1):
            key = self._order[index]
            if key is not None:
                yield self.rows[key]

    def oldest_first(self, after: int = -1) -> Iterator[Record]:
        """Records created after position ``after``, oldest first."""
        for index in range(after + 1, len(self._order)):
            key = self._order[index]
            if key is not None:
                yield self.rows[key]

    def clear(self) -> None:
        self.rows.clear()
        self._order.clear()
        self._pos.clear()

    def dump(self) -> list[Record]:
        return list(self.oldest_first())

    def load(self, records: list[Record], key_field: str = "id") -> None:
        self.clear()
        for record in records:
            self.add(record, record[key_field])
