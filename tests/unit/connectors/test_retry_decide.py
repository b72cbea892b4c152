"""``decide()``: after a failed call, whether to try again and after how long.

Only a RetryableError is retried; one that may already have taken effect only when the
call is idempotent. The wait doubles from ``base_delay_s`` up to ``max_delay_s``, jittered
into [0, backoff] (``full``), [backoff/2, backoff] (``equal``, or ``jitter=True``) or not
at all, and a Retry-After from a throttling target is honoured up to
six times ``max_delay_s``.
"""

from __future__ import annotations

import random

import pytest

from revbridge.config.systems import RetryPolicy as PolicyRetry
from revbridge.connectors.builder import retry_policy
from revbridge.connectors.retry import Jitter, RetryPolicy, decide
from revbridge.errors import (
    AuthError,
    ConflictError,
    ConnectorError,
    DataError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryableError,
    TimeoutAfterSendError,
)

STEADY = RetryPolicy(max_attempts=10, base_delay_s=0.5, max_delay_s=30.0, jitter=False)


@pytest.mark.parametrize(
    "error",
    [
        AuthError("netsuite 401 INVALID_LOGIN"),
        DataError("netsuite 400 USER_ERROR"),
        NotFoundError("netsuite 404 NONEXISTENT_ID"),
        ConflictError("netsuite 400 DUP_ENTITY"),
        PermanentError("netsuite 422"),
        ConnectorError("neither retryable nor permanent"),
        ValueError("a defect, not a connector error"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_error_retrying_cannot_fix_is_never_retried(error: Exception) -> None:
    decision = decide(STEADY, 1, error, idempotent=True)
    assert not decision.retry
    assert decision.reason == "permanent"


def test_a_request_that_may_have_taken_effect_is_not_repeated_without_a_key() -> None:
    decision = decide(STEADY, 1, TimeoutAfterSendError("no answer"), idempotent=False)
    assert not decision.retry
    assert decision.reason == "may have taken effect and is not idempotent"


def test_a_request_that_may_have_taken_effect_is_repeated_under_its_key() -> None:
    decision = decide(STEADY, 1, TimeoutAfterSendError("no answer"), idempotent=True)
    assert decision.retry
    assert decision.reason == "TimeoutAfterSendError"


def test_a_call_that_never_reached_the_target_is_retried_even_without_a_key() -> None:
    decision = decide(STEADY, 1, RetryableError("cannot connect"), idempotent=False)
    assert decision.retry
    assert decision.reason == "RetryableError"


def test_retrying_stops_at_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3, jitter=False)
    assert decide(policy, 2, RetryableError("503"), idempotent=True).retry
    decision = decide(policy, 3, RetryableError("503"), idempotent=True)
    assert not decision.retry
    assert decision.reason == "gave up after 3 attempts"


def test_a_single_attempt_policy_never_retries() -> None:
    policy = RetryPolicy(max_attempts=1)
    assert not decide(policy, 1, RetryableError("503"), idempotent=True).retry


def test_the_wait_doubles_after_each_failed_attempt() -> None:
    delays = [
        decide(STEADY, n, RetryableError("503"), idempotent=True).delay_s for n in range(1, 6)
    ]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_the_wait_never_exceeds_max_delay() -> None:
    policy = RetryPolicy(max_attempts=20, base_delay_s=1.0, max_delay_s=10.0, jitter=False)
    delays = [decide(policy, n, RetryableError("503"), idempotent=True).delay_s for n in (4, 5, 19)]
    assert delays == [8.0, 10.0, 10.0]


def test_jitter_keeps_each_wait_between_half_and_all_of_the_backoff() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay_s=1.0, max_delay_s=16.0, jitter=True)
    rng = random.Random(42)
    for attempt in range(1, 10):
        backoff = min(16.0, 2.0 ** (attempt - 1))
        waits = [
            decide(policy, attempt, RetryableError("503"), idempotent=True, rng=rng).delay_s
            for _ in range(50)
        ]
        assert all(backoff / 2 <= wait <= backoff for wait in waits)
        assert len(set(waits)) > 1  # spread out, so a fleet does not retry in step


def test_the_same_seed_gives_the_same_waits() -> None:
    policy = RetryPolicy(max_attempts=10, jitter=True)
    first = [
        decide(policy, n, RetryableError("503"), idempotent=True, rng=random.Random(7)).delay_s
        for n in range(1, 6)
    ]
    second = [
        decide(policy, n, RetryableError("503"), idempotent=True, rng=random.Random(7)).delay_s
        for n in range(1, 6)
    ]
    assert first == second


def test_a_throttled_call_waits_as_long_as_retry_after_asks() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay_s=0.5, max_delay_s=10.0, jitter=False)
    error = RateLimitedError("429", retry_after=20.0)
    decision = decide(policy, 1, error, idempotent=True)
    assert decision.retry
    assert decision.delay_s == 20.0
    assert decision.reason == "RateLimitedError"


def test_retry_after_is_capped_at_six_times_max_delay() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay_s=0.5, max_delay_s=10.0, jitter=False)
    error = RateLimitedError("429", retry_after=3600.0)
    assert decide(policy, 1, error, idempotent=True).delay_s == 60.0


def test_a_short_retry_after_does_not_shorten_the_backoff() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay_s=1.0, max_delay_s=30.0, jitter=False)
    error = RateLimitedError("429", retry_after=1.0)
    assert decide(policy, 4, error, idempotent=True).delay_s == 8.0


def test_retry_after_is_ignored_when_the_policy_says_so() -> None:
    policy = RetryPolicy(
        max_attempts=5, base_delay_s=0.5, max_delay_s=10.0, jitter=False, honour_retry_after=False
    )
    error = RateLimitedError("429", retry_after=20.0)
    assert decide(policy, 1, error, idempotent=True).delay_s == 0.5


def test_a_throttled_call_without_retry_after_waits_the_backoff() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay_s=0.5, max_delay_s=10.0, jitter=False)
    assert decide(policy, 2, RateLimitedError("429"), idempotent=False).delay_s == 1.0


def test_retry_after_is_honoured_over_a_jittered_backoff() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay_s=0.5, max_delay_s=10.0, jitter=True)
    error = RateLimitedError("429", retry_after=20.0)
    decision = decide(policy, 1, error, idempotent=True, rng=random.Random(1))
    assert decision.delay_s == 20.0


def test_a_throttled_call_still_gives_up_at_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=2)
    decision = decide(policy, 2, RateLimitedError("429", retry_after=1.0), idempotent=True)
    assert not decision.retry
    assert decision.reason == "gave up after 2 attempts"


def test_full_jitter_spreads_each_wait_over_zero_to_all_of_the_backoff() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay_s=1.0, max_delay_s=16.0, jitter=Jitter.FULL)
    rng = random.Random(42)
    for attempt in range(1, 10):
        backoff = min(16.0, 2.0 ** (attempt - 1))
        waits = [
            decide(policy, attempt, RetryableError("503"), idempotent=True, rng=rng).delay_s
            for _ in range(200)
        ]
        assert all(0.0 <= wait <= backoff for wait in waits)
        assert min(waits) < backoff / 2  # reaches below the equal-jitter floor


def test_each_jitter_mode_of_the_policy_file_is_honoured() -> None:
    modes = {mode: RetryPolicy(base_delay_s=4.0, max_delay_s=4.0, jitter=mode) for mode in Jitter}
    waits = {
        mode: [
            decide(policy, 1, RetryableError("503"), idempotent=True, rng=random.Random(n)).delay_s
            for n in range(100)
        ]
        for mode, policy in modes.items()
    }
    assert set(waits[Jitter.NONE]) == {4.0}
    assert all(2.0 <= wait <= 4.0 for wait in waits[Jitter.EQUAL])
    assert min(waits[Jitter.FULL]) < 2.0
    assert RetryPolicy(jitter=True).jitter is Jitter.EQUAL
    assert RetryPolicy(jitter=False).jitter is Jitter.NONE


def test_a_policy_without_jitter_settings_uses_full_jitter() -> None:
    assert RetryPolicy().jitter is Jitter.FULL
    assert retry_policy(PolicyRetry()).jitter is Jitter.FULL
    assert retry_policy(PolicyRetry(jitter="equal")).jitter is Jitter.EQUAL
    assert retry_policy(PolicyRetry(jitter="none")).jitter is Jitter.NONE
