"""The declarative shape of a vendor's error table, shared by the connectors that use it.

A connector lists :class:`Rule` rows — vendor codes first, then HTTP statuses — and
:func:`rule_for` picks the first that matches; :data:`BY_STATUS` is the common tail for
answers whose code no rule names. :func:`make_error` builds the error the caller sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from revbridge.connectors.http import retry_after
from revbridge.errors import (
    AuthError,
    ConnectorError,
    DataError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)


@dataclass(frozen=True)
class Rule:
    """``error`` applies to an answer carrying one of ``codes`` or a status in ``statuses``."""

    error: type[ConnectorError]
    codes: frozenset[str] = frozenset()
    statuses: range = range(0)


def codes(*names: str) -> frozenset[str]:
    return frozenset(names)


#: What an HTTP status alone says, after every code rule was tried.
BY_STATUS: tuple[Rule, ...] = (
    Rule(RateLimitedError, statuses=range(429, 430)),
    Rule(AuthError, statuses=range(401, 402)),
    Rule(AuthError, statuses=range(403, 404)),
    Rule(NotFoundError, statuses=range(404, 405)),
    Rule(RetryableError, statuses=range(500, 600)),
    Rule(DataError, statuses=range(400, 401)),
    Rule(PermanentError, statuses=range(400, 500)),
)


def rule_for(rules: tuple[Rule, ...], status: int, found: list[str]) -> Rule | None:
    """The first rule naming one of the answer's codes or its status."""
    for rule in rules:
        if rule.codes & set(found) or status in rule.statuses:
            return rule
    return None


def make_error(
    response: httpx.Response, rule: Rule | None, found: list[str], message: str
) -> ConnectorError:
    """The error for ``response``: the rule's class (PermanentError when none matched),
    the code the rule matched (else the first code), and the server's Retry-After."""
    status = response.status_code
    error_class = rule.error if rule is not None else PermanentError
    code = next(
        (c for c in found if rule is not None and c in rule.codes), found[0] if found else ""
    )
    if issubclass(error_class, RetryableError):
        return error_class(message, retry_after=retry_after(response), code=code, status=status)
    return error_class(message, code=code, status=status)
