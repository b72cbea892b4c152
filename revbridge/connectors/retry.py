"""Retry policy as data and one pure decision function.

``decide(policy, attempt, error)`` says whether to try again and after how long:
exponential backoff, capped, spread by the policy's :class:`Jitter`, honouring the
target's ``Retry-After`` when it gave one. Only :class:`~revbridge.errors.RetryableError`
is ever retried, and a request that may have taken effect
(:class:`~revbridge.errors.TimeoutAfterSendError`) is retried only when it carries an
idempotency key.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from revbridge.errors import RetryableError, TimeoutAfterSendError


class Jitter(StrEnum):
    """How a backoff is spread, so a fleet of callers does not retry in step."""

    FULL = "full"  # uniform in [0, backoff]
    EQUAL = "equal"  # uniform in [backoff/2, backoff]
    NONE = "none"  # exactly the backoff


@dataclass(frozen=True)
class RetryPolicy:
    """``jitter`` also takes a bool: True is :attr:`Jitter.EQUAL`, False :attr:`Jitter.NONE`."""

    max_attempts: int = 5
    base_delay_s: float = 0.2
    max_delay_s: float = 10.0
    jitter: Jitter = Jitter.FULL
    honour_retry_after: bool = True

    def __post_init__(self) -> None:
        jitter: object = self.jitter
        if isinstance(jitter, bool):
            object.__setattr__(self, "jitter", Jitter.EQUAL if jitter else Jitter.NONE)
        else:
            object.__setattr__(self, "jitter", Jitter(str(jitter)))


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
    backoff = spread(
        min(policy.max_delay_s, policy.base_delay_s * 2 ** (attempt - 1)), policy.jitter, rng
    )
    if policy.honour_retry_after and error.retry_after is not None:
        backoff = max(backoff, min(error.retry_after, policy.max_delay_s * 6))
    return RetryDecision(True, backoff, reason=type(error).__name__)


def spread(backoff: float, jitter: Jitter, rng: random.Random | None = None) -> float:
    """The wait for one ``backoff``, drawn as ``jitter`` says."""
    if jitter is Jitter.FULL:
        return (rng or random).uniform(0.0, backoff)
    if jitter is Jitter.EQUAL:
        return (rng or random).uniform(backoff / 2, backoff)
    return backoff
