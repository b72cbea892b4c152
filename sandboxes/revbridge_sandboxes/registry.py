"""The sandboxes revbridge ships, by name, with their default ports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from revbridge_sandboxes.control import Sandbox, SnapshotFile


@dataclass(frozen=True)
class SandboxSpec:
    name: str
    default_port: int
    factory: Callable[..., Sandbox]


@cache
def available() -> dict[str, SandboxSpec]:
    """Every shipped sandbox by name, in the order they are started."""
    from revbridge_sandboxes import avalara, netsuite, salesforce, stripe

    return {
        "salesforce": SandboxSpec("salesforce", salesforce.DEFAULT_PORT, salesforce.create_app),
        "netsuite": SandboxSpec("netsuite", netsuite.DEFAULT_PORT, netsuite.create_app),
        "stripe": SandboxSpec("stripe", stripe.DEFAULT_PORT, stripe.create_app),
        "avalara": SandboxSpec("avalara", avalara.DEFAULT_PORT, avalara.create_app),
    }


def create(name: str, persist: SnapshotFile | None = None, **options: Any) -> Sandbox:
    return available()[name].factory(persist=persist, **options)
