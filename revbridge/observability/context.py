"""The correlation context: which deal, flow and step the current code works for.

Context variables follow asyncio tasks, so a connector call made inside a step carries
the step's correlation id onto the outbound request, into logs and into errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
deal: ContextVar[str | None] = ContextVar("deal", default=None)
step: ContextVar[str | None] = ContextVar("step", default=None)


@contextmanager
def bound(
    *, correlation: str | None = None, deal_key: str | None = None, step_name: str | None = None
) -> Iterator[None]:
    """Set the context for the duration of a block."""
    tokens = []
    if correlation is not None:
        tokens.append((correlation_id, correlation_id.set(correlation)))
    if deal_key is not None:
        tokens.append((deal, deal.set(deal_key)))
    if step_name is not None:
        tokens.append((step, step.set(step_name)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
