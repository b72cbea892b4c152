"""Fault injection shared by every sandbox: latency, errors, hangs, commit-then-drop.

A :class:`FaultConfig` holds rules; the first rule whose ``method`` and ``path`` glob
match a request decides what happens to it. Draws come from one seeded
``random.Random`` so a run with the same seed and request order is reproducible.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Builds the vendor-shaped error for an injected status: (body, extra headers).
ErrorBody = Callable[[int, float | None], tuple[bytes, dict[str, str]]]


class Latency(BaseModel):
    """Added delay in milliseconds: fixed, uniform(min, max) or normal(mean, stddev)."""

    model_config = ConfigDict(extra="forbid")
    distribution: Literal["fixed", "uniform", "normal"] = "fixed"
    mean_ms: float = Field(default=0.0, ge=0)
    min_ms: float = Field(default=0.0, ge=0)
    max_ms: float = Field(default=0.0, ge=0)
    stddev_ms: float = Field(default=0.0, ge=0)

    def draw(self, rng: random.Random) -> float:
        if self.distribution == "uniform":
            return rng.uniform(self.min_ms, max(self.min_ms, self.max_ms)) / 1000
        if self.distribution == "normal":
            return max(0.0, rng.gauss(self.mean_ms, self.stddev_ms)) / 1000
        return self.mean_ms / 1000


class FaultRule(BaseModel):
    """What to do to the requests matching ``method`` and ``path`` (fnmatch globs)."""

    model_config = ConfigDict(extra="forbid")
    path: str = "*"
    method: str = "*"
    latency: Latency | None = None
    #: HTTP status → probability, e.g. ``{"500": 0.1, "429": 0.03}``.
    errors: dict[int, float] = Field(default_factory=dict)
    #: Seconds announced in ``Retry-After`` on injected 429/503 (where the vendor sends it).
    retry_after_s: float | None = 1.0
    #: Probability that the request hangs for ``hang_s`` and then gets a 504.
    hang_rate: float = Field(default=0.0, ge=0, le=1)
    hang_s: float = Field(default=30.0, ge=0)
    #: Probability that the request takes effect but the client never gets the answer.
    commit_then_drop_rate: float = Field(default=0.0, ge=0, le=1)
    #: ``reset``: the connection is cut mid-response; ``timeout``: silence for ``hang_s`` first.
    drop_mode: Literal["reset", "timeout"] = "reset"
    #: Apply to at most this many matching requests, then let them pass (None: no limit).
    max_count: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _probabilities(self) -> FaultRule:
        total = sum(self.errors.values()) + self.hang_rate + self.commit_then_drop_rate
        if any(p < 0 for p in self.errors.values()) or total > 1:
            raise ValueError("fault probabilities must be >= 0 and sum to at most 1")
        return self

    def matches(self, method: str, path: str) -> bool:
        return fnmatch.fnmatchcase(method, self.method.upper()) and fnmatch.fnmatchcase(
            path, self.path
        )


class WebhookFaults(BaseModel):
    """How outbound webhooks misbehave: duplicates and out-of-order delivery."""

    model_config = ConfigDict(extra="forbid")
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    #: Probability that a delivery is held back and sent after the next one.
    reorder_rate: float = Field(default=0.0, ge=0, le=1)


class FaultConfig(BaseModel):
    """All faults of one sandbox; settable by file or at run time on ``/_sandbox/faults``."""

    model_config = ConfigDict(extra="forbid")
    seed: int | None = None
    rules: list[FaultRule] = Field(default_factory=list)
    webhooks: WebhookFaults = Field(default_factory=WebhookFaults)


class ConnectionDropped(Exception):
    """Raised after the response has started so the server cuts the connection."""


class FaultInjector:
    """Holds the active :class:`FaultConfig`, its RNG and counters of what was injected."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.counts: Counter[str] = Counter()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.applied: Counter[int] = Counter()

    def rule_for(self, method: str, path: str) -> FaultRule | None:
        """The first matching rule that has not used up its ``max_count``."""
        for index, rule in enumerate(self.config.rules):
            if not rule.matches(method, path):
                continue
            if rule.max_count is not None:
                if self.applied[index] >= rule.max_count:
                    continue
                self.applied[index] += 1
            return rule
        return None

    def draw(self, rule: FaultRule) -> tuple[str, int | None]:
        """Decide the fate of one request: ``("pass"|"error"|"hang"|"drop", status)``."""
        r = self.rng.random()
        for status, p in sorted(rule.errors.items()):
            if r < p:
                return "error", status
            r -= p
        if r < rule.hang_rate:
            return "hang", None
        r -= rule.hang_rate
        if r < rule.commit_then_drop_rate:
            return "drop", None
        return "pass", None

    def chance(self, p: float) -> bool:
        return p > 0 and self.rng.random() < p


def fault_middleware(app: ASGIApp, injector: FaultInjector, error_body: ErrorBody) -> ASGIApp:
    """Wrap ``app`` so requests suffer the faults the injector's rules describe."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await app(scope, receive, send)
            return
        rule = injector.rule_for(scope["method"], scope["path"])
        if rule is None:
            await app(scope, receive, send)
            return
        if rule.latency is not None:
            await asyncio.sleep(rule.latency.draw(injector.rng))
        fate, status = injector.draw(rule)
        if fate == "pass":
            await app(scope, receive, send)
        elif fate == "error" and status is not None:
            injector.counts[f"error_{status}"] += 1
            body, headers = error_body(status, rule.retry_after_s)
            await _respond(send, status, body, headers)
        elif fate == "hang":
            injector.counts["hang"] += 1
            await asyncio.sleep(rule.hang_s)
            await _respond(send, 504, b"", {})
        else:
            injector.counts["commit_then_drop"] += 1
            await _commit_then_drop(app, scope, receive, send, rule)

    return wrapped


async def _commit_then_drop(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, rule: FaultRule
) -> None:
    started: list[Message] = []

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            started.append(message)

    await app(scope, receive, capture)  # the effect is committed here
    if rule.drop_mode == "timeout":
        await asyncio.sleep(rule.hang_s)
    if started:
        await send(_unfinishable(started[0]))
    raise ConnectionDropped("sandbox fault: response dropped after commit")


def _unfinishable(head: Message) -> Message:
    """A bodiless answer (204/304) is complete once its head is sent, so the cut would go
    unnoticed: announce a body instead, which the cut then leaves incomplete."""
    if head["status"] not in (204, 304):
        return head
    headers = [(k, v) for k, v in head.get("headers", []) if k.lower() != b"content-length"]
    return {**head, "status": 200, "headers": [*headers, (b"content-length", b"1")]}


async def _respond(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
