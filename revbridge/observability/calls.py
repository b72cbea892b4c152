"""What is observed about each call to an external system (the metrics' input)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallRecord:
    """What an observer learns about each attempt."""

    system: str
    operation: str
    outcome: str  # ok | retryable | permanent
    status: int | None
    seconds: float
    attempt: int
    waited_s: float
