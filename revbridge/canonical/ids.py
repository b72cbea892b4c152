"""Identifiers: canonical ids, references into other systems, correlation and idempotency keys.

- A canonical id (``customer_id``, ``order_id`` ...) is ours: short, printable, stable.
- An id owned by another system is always an ``ExternalRef(system, id)``, never a bare string;
  ``system`` is the name the policy file gives that system (``crm``, ``erp_eu`` ...).
- Every id is visible text (:func:`check_id_characters`): no control characters (NUL, ESC,
  C1), no format characters (right-to-left overrides and isolates, zero-width ones), no
  surrogates and no line or paragraph separators, so an id cannot hide or reorder what
  a person reads in the console, a log or a CSV.
- A correlation id follows one deal through every event, step, call and log line.
- ``idempotency_key(*parts)`` derives the key an external create is sent with, from canonical
  ids only, so a retry after a lost response repeats the same key and never creates twice.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from collections.abc import Iterable
from enum import Enum
from typing import Annotated
from urllib.parse import quote

from pydantic import AfterValidator, Field, StringConstraints

from revbridge.canonical.model import CanonicalModel

__all__ = [
    "CanonicalId",
    "CorrelationId",
    "ExternalRef",
    "ExternalRefs",
    "SystemName",
    "check_id_characters",
    "find_ref",
    "idempotency_key",
    "new_correlation_id",
    "new_id",
    "workflow_id_for",
]

MAX_KEY_LENGTH = 255
"""Longest idempotency key produced: the tightest limit among the targets' key headers."""

CanonicalId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]*$"),
]
"""A revbridge id (``ord_8f2c…``, ``CUST-00042``): printable ASCII without spaces."""

SystemName = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
]
"""The policy file's name for an external system: lower-case snake_case (``crm``, ``erp_us``)."""

CorrelationId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")
]
"""Printable ASCII, no spaces (it travels in headers); new ones come from ``new_correlation_id``."""


_HIDDEN = {
    "Cc": "control",
    "Cf": "format",  # bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069), zero-widths
    "Cs": "surrogate",
    "Zl": "line separator",
    "Zp": "paragraph separator",
}
"""The Unicode categories an id may not hold, and what to call them in an error."""


def check_id_characters(value: str) -> str:
    """``value`` if every character is visible text, else ``ValueError`` naming the first
    one that is not (``U+202E``). Letters of any script, digits, punctuation and spaces pass."""
    if value.isascii() and value.isprintable():
        return value
    for char in value:
        kind = _HIDDEN.get(unicodedata.category(char))
        if kind is not None:
            raise ValueError(f"holds U+{ord(char):04X}, a {kind} character; ids are visible text")
    return value


class ExternalRef(CanonicalModel):
    """An object's id in another system: ``ExternalRef(system="erp", id="1042")``."""

    system: SystemName
    id: Annotated[str, Field(min_length=1, max_length=255), AfterValidator(check_id_characters)]

    def __str__(self) -> str:
        return f"{self.system}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> ExternalRef:
        """Inverse of ``str(ref)``: ``ExternalRef.parse("crm:006Rt00000A1b2C")``."""
        system, sep, ident = text.partition(":")
        if not sep:
            raise ValueError(f"{text!r} is not 'system:id'")
        return cls(system=system, id=ident)


def _one_ref_per_system(refs: tuple[ExternalRef, ...]) -> tuple[ExternalRef, ...]:
    systems = [ref.system for ref in refs]
    duplicates = sorted({system for system in systems if systems.count(system) > 1})
    if duplicates:
        raise ValueError(f"more than one reference for system(s): {', '.join(duplicates)}")
    return refs


ExternalRefs = Annotated[tuple[ExternalRef, ...], AfterValidator(_one_ref_per_system)]
"""An object's ids in other systems, at most one per system."""


def find_ref(refs: Iterable[ExternalRef], system: str) -> ExternalRef | None:
    """The reference for ``system`` among ``refs``, or None."""
    return next((ref for ref in refs if ref.system == system), None)


def new_id(prefix: str) -> str:
    """A fresh canonical id: ``new_id("ord")`` → ``"ord_3b1f…"`` (prefix + UUID4 hex)."""
    if not prefix.isascii() or not prefix.isalnum():
        raise ValueError(f"an id prefix is ASCII letters and digits, not {prefix!r}")
    return f"{prefix}_{uuid.uuid4().hex}"


def new_correlation_id() -> str:
    """A fresh correlation id: a UUID4 in its canonical text form."""
    return str(uuid.uuid4())


KeyPart = str | int | ExternalRef | Enum


def _key_texts(part: KeyPart) -> list[str]:
    if isinstance(part, bool):
        raise TypeError("a bool is not an idempotency key part")
    if isinstance(part, ExternalRef):
        return [part.system, part.id]
    if isinstance(part, Enum):
        return [str(part.value)]
    if isinstance(part, int):
        return [str(part)]
    if isinstance(part, str):
        if not part:
            raise ValueError("an idempotency key part is never empty")
        return [part]
    raise TypeError(f"cannot build an idempotency key from {type(part).__name__}")


def idempotency_key(*parts: KeyPart) -> str:
    """A deterministic key from business identifiers, at most 255 printable ASCII characters.

    Parts are joined with ``:`` after percent-encoding anything but letters, digits and
    ``-_.~/@+=`` (so ``("a:b", "c")`` and ``("a", "b:c")`` differ); an ``ExternalRef`` counts as
    its two parts. A key that would be longer than 255 characters keeps a readable 190-character
    prefix followed by ``#`` and the SHA-256 of the whole key; ``#`` never occurs otherwise.

    >>> idempotency_key("order", ExternalRef(system="crm", id="006A"), 2)
    'order:crm:006A:2'
    """
    if not parts:
        raise ValueError("an idempotency key needs at least one part")
    texts = [text for part in parts for text in _key_texts(part)]
    key = ":".join(quote(text, safe="-_.~/@+=") for text in texts)
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("ascii")).hexdigest()
    return f"{key[: MAX_KEY_LENGTH - len(digest) - 1]}#{digest}"


def workflow_id_for(process: str, business_key: KeyPart, *more: KeyPart) -> str:
    """The durable workflow id of one business transaction: ``quote_to_cash:crm:006A``.

    Starting the same process for the same business key twice yields the same id, which is
    what makes a duplicate trigger attach to the running workflow instead of starting another.
    """
    if not process.isidentifier() or not process.islower():
        raise ValueError(f"a process name is lower-case snake_case, not {process!r}")
    return idempotency_key(process, business_key, *more)


_CORRELATION_NAMESPACE = uuid.UUID("5b0c6c1e-6f1d-4b7e-9a51-7d1b2f7a9e10")


def correlation_id_for(business_key: ExternalRef) -> str:
    """The one correlation id of a business transaction (a deal), the same on every
    delivery, worker and replay: ``corr-<uuid5 of the key>``."""
    return f"corr-{uuid.uuid5(_CORRELATION_NAMESPACE, str(business_key))}"
