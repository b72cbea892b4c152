"""Salesforce record ids: 15-character case-sensitive ids and their 18-character form.

An id is a 3-character key prefix naming the object (``001`` Account, ``006``
Opportunity...), a 2-character instance code, a reserved ``0`` and a 9-character base-62
counter; the 18-character form adds a 3-character checksum of the letter case so ids
survive case-insensitive systems. Both forms are accepted as input; output is always 18.
"""

from __future__ import annotations

import re
import secrets

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")

#: The instance code in every generated id (characters 4 and 5).
INSTANCE = "8d"
ORG_ID_PREFIX = "00D"
USER_PREFIX = "005"
QUERY_LOCATOR_PREFIX = "01g"


def checksum(id15: str) -> str:
    """The 3-character case checksum that turns a 15-character id into 18."""
    out = []
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        out.append(_SUFFIX[bits])
    return "".join(out)


def to18(value: str) -> str | None:
    """The canonical 18-character id for ``value``, or None when it is not id-shaped."""
    if not _ID_RE.match(value):
        return None
    id15 = value[:15]
    return id15 + checksum(id15)


def make_id(prefix: str, counter: int) -> str:
    """The 18-character id of the ``counter``-th record with key ``prefix``."""
    digits = []
    n = counter
    for _ in range(9):
        n, rem = divmod(n, 62)
        digits.append(_BASE62[rem])
    id15 = prefix + INSTANCE + "0" + "".join(reversed(digits))
    return id15 + checksum(id15)


def random_id(prefix: str) -> str:
    """An id-shaped random value with ``prefix`` (query locators, org ids)."""
    body = "".join(secrets.choice(_BASE62) for _ in range(15 - len(prefix) - len(INSTANCE) - 1))
    id15 = prefix + INSTANCE + "0" + body
    return id15 + checksum(id15)
