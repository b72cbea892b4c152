"""Retry policy as data and one pure decision function.

``decide(policy, attempt, error)`` says whether to try again and after how long:
exponential backoff with full jitter, capped, honouring the target's ``Retry-After``
when it gave one. Only :class:`~revbridge.errors.RetryableError` is ever retried, and a
request that may have taken effect (:class:`~revbridge.errors.TimeoutAfterSendError`) is
retried only when it carries an idempotency key.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from revbridge.errors import RetryableError, TimeoutAfterSendError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 0.2
    max_delay_s: float = 10.0
    jitter: bool = True
    honour_retry_after: bool = True


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay_s: float = 0.0
    reason: str = ""


def decide(
    policy: RetryPolicy,
    attempt: int,
    error: Exception,
    *,
    idempotent: bool,
    rng: random.Random | None = None,
) -> RetryDecision:
    """Decide after failed attempt number ``attempt`` (1-based)."""
    if not isinstance(error, RetryableError):
        return RetryDecision(False, reason="permanent")
    if isinstance(error, TimeoutAfterSendError) and not idempotent:
        return RetryDecision(False, reason="may have taken effect and is not idempotent")
    if attempt >= policy.max_attempts:
        return RetryDecision(False, reason=f"gave up after {attempt} attempts")
    backoff = min(policy.max_delay_s, policy.base_delay_s * 2 ** (attempt - 1))
    if policy.jitter:
        backoff = (rng or random).uniform(backoff / 2, backoff)
    if policy.honour_retry_after and error.retry_after is not None:
        backoff = max(backoff, min(error.retry_after, policy.max_delay_s * 6))
    return RetryDecision(True, backoff, reason=type(error).__name__)
