"""Stripe-style identifiers: ``cus_…``, ``price_1…``, ``req_…``, ``whsec_…``."""

from __future__ import annotations

import random
import string

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
