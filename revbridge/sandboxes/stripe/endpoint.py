"""What a resource handler receives (:class:`Call`) and how it is declared (:class:`Endpoint`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from revbridge.sandboxes.stripe.params import Obj
from revbridge.sandboxes.stripe.state import StripeState


@dataclass
class Call:
    """One validated API call: the account, the params and the path arguments."""

    state: StripeState
    params: dict[str, Any]
    path: dict[str, str]
    url: str

    def arg(self, name: str) -> str:
        return self.path[name]

    @property
    def expand(self) -> list[str]:
        value = self.params.get("expand") or []
        return list(value)


Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Endpoint:
    """A handler and the schema of the parameters it accepts."""

    spec: Obj
    handler: Handler


#: path template → HTTP method → endpoint; each resource module exports one.
Routes = dict[str, dict[str, Endpoint]]
