"""What every contract suite uses: required fixtures, running a scenario, waiting.

A scenario is a coroutine run on its own event loop. Adapters keep one HTTP client per
event loop, so the scenario closes the adapters it used on the loop that opened their
connections, whether it passed or failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")

#: How long a contract waits for something a target does later (an ERP approving an order).
SETTLE_TIMEOUT_S = 60.0  # a poll: passing runs are no slower, a loaded machine has room


@runtime_checkable
class Closeable(Protocol):
    """An adapter that holds connections: ``aclose`` releases this event loop's."""

    async def aclose(self) -> None: ...


def run(scenario: Callable[[], Awaitable[T]], *adapters: object) -> T:
    """Run ``scenario`` to the end and close every closeable adapter of ``adapters``."""

    async def main() -> T:
        try:
            return await scenario()
        finally:
            for adapter in adapters:
                if isinstance(adapter, Closeable):
                    await adapter.aclose()

    return asyncio.run(main())


async def eventually(
    read: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    timeout_s: float = SETTLE_TIMEOUT_S,
) -> T:
    """Read until ``done`` holds for the answer; the last answer when time runs out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    answer = await read()
    while not done(answer) and loop.time() < deadline:
        await asyncio.sleep(0.05)
        answer = await read()
    return answer


def required(contract: str, fixture: str, what: str) -> NoReturn:
    """The body of a fixture the connector's test class must provide."""
    raise NotImplementedError(
        f"{contract} needs a `{fixture}` fixture in the connector's test class: {what}"
    )


def expect(actual: object, expected: object, what: str) -> None:
    """Assert ``actual == expected``, saying what differed and how (contract modules are
    not rewritten by pytest, so a bare ``assert`` would report nothing)."""
    assert actual == expected, f"{what}: got {actual!r}, expected {expected!r}"
