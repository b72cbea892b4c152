"""Idempotent requests, as Stripe documents them.

* A POST with ``Idempotency-Key`` reserves the key (scoped per API key) once the
  endpoint starts executing; the status and body it produces are saved, 4xx and 5xx
  included, and replayed to later requests with the same key, marked
  ``Idempotent-Replayed: true`` and ``Original-Request: <first request id>``.
* Requests that fail validation before execution are not saved (the key stays free).
* The same key with other parameters, or on another endpoint → 400 ``idempotency_error``.
* The same key while the first request is still executing → 409 ``idempotency_error``
  (``idempotency_key_in_use``); nothing is saved for the loser, which may retry.
* Keys are 1-255 characters and are pruned 24 h (sandbox time) after first use.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

from revbridge_sandboxes.stripe.errors import StripeError

TTL_S = 24 * 3600
MAX_KEY_LENGTH = 255


@dataclass
class Saved:
    """One key's record: what it was first used for and, once done, the answer."""

    method: str
    path: str
    params: str
    created: int
    request_id: str
    status: int | None = None  # None while the first request is still executing
    body: str = ""


def fingerprint(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def check_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise StripeError.invalid(
            f"Idempotent key length is {len(key)}, which is outside accepted lengths. "
            "Idempotent Keys must be 1-255 characters long. If you're looking for a decent "
            "generator, try using a UUID defined by IETF RFC 4122."
        )


class IdempotencyStore:
    """Saved results by (API key, idempotency key), oldest first for pruning."""

    def __init__(self) -> None:
        self.entries: OrderedDict[tuple[str, str], Saved] = OrderedDict()

    def begin(
        self, scope: str, key: str, method: str, path: str, params: str, request_id: str, now: int
    ) -> Saved | None:
        """Reserve ``key`` for this request, or return the saved result to replay.

        Raises the idempotency errors for conflicting or mismatched reuse.
        """
        self.prune(now)
        saved = self.entries.get((scope, key))
        if saved is None:
            self.entries[(scope, key)] = Saved(method, path, params, now, request_id)
            return None
        if saved.method != method or saved.path != path:
            raise _error(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{saved.path}' vs '{path}'). Try using a key other than "
                f"'{key}' if you meant to execute a different request.",
            )
        if saved.params != params:
            raise _error(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
            )
        if saved.status is None:
            raise _error(
                409,
                "There is currently another in-progress request using this Idempotent Key "
                "(that probably means you submitted twice, and the other request is still going "
                f"through): {key}. Please try again later.",
                code="idempotency_key_in_use",
            )
        return saved

    def finish(self, scope: str, key: str, status: int, body: str) -> None:
        saved = self.entries.get((scope, key))
        if saved is not None:
            saved.status, saved.body = status, body

    def release(self, scope: str, key: str) -> None:
        """Forget a reservation whose request never started executing."""
        saved = self.entries.get((scope, key))
        if saved is not None and saved.status is None:
            del self.entries[(scope, key)]

    def prune(self, now: int) -> None:
        while self.entries:
            scope_key, oldest = next(iter(self.entries.items()))
            if now - oldest.created < TTL_S:
                return
            del self.entries[scope_key]

    def snapshot(self) -> list[dict[str, Any]]:
        return [
            {"scope": s, "key": k, **asdict(v)}
            for (s, k), v in self.entries.items()
            if v.status is not None
        ]

    def restore(self, rows: list[dict[str, Any]]) -> None:
        self.entries.clear()
        for row in rows:
            row = dict(row)
            scope, key = row.pop("scope"), row.pop("key")
            self.entries[(scope, key)] = Saved(**row)


def _error(status: int, message: str, code: str | None = None) -> StripeError:
    return StripeError(status, message, type="idempotency_error", code=code)
