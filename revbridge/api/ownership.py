"""Systems of record: a write that sets a field another system owns is refused.

The policy names owners per field (``ownership.fields``: ``customer.payment_terms: erp``),
as a system name, a role, ``shared`` or ``revbridge``. An event's writer is the system its
``source`` names (``/salesforce/...`` → ``salesforce``, which plays ``crm``). Every field
the event's canonical data sets (the order, its customer, an invoice or a payment) is
checked: when the field has an owner that is neither ``shared``, nor the writer, nor the
writer's role, the write is refused and the rule cited. Fields the policy does not name
are not checked here (domain ownership is applied by the flows' rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from revbridge.canonical.commerce import Order
from revbridge.canonical.events import BusinessEvent
from revbridge.canonical.finance import Invoice, Payment
from revbridge.config.policy import Policy


@dataclass(frozen=True)
class Conflict:
    field: str
    owner: str
    writer: str

    @property
    def rule(self) -> str:
        return f"ownership.fields.{self.field}: {self.owner}"


def writer_of(source: str) -> str:
    """The system an event source names: its first path segment (``/stripe/x`` → stripe)."""
    path = source.split("://", 1)[-1]
    return path.strip("/").split("/", 1)[0]


def fields_set(event: BusinessEvent) -> list[str]:
    """Canonical field paths (``customer.payment_terms``) the event's data sets."""
    data = event.data
    if isinstance(data, Order):
        return _set(data, "order") + _set(data.customer, "customer")
    if isinstance(data, Invoice):
        return _set(data, "invoice")
    if isinstance(data, Payment):
        return _set(data, "payment")
    return []


def _set(model: BaseModel, prefix: str) -> list[str]:
    values: dict[str, Any] = dict(model)
    return [f"{prefix}.{name}" for name in model.model_fields_set if values.get(name) is not None]


def conflicts(policy: Policy, event: BusinessEvent) -> list[Conflict]:
    writer = writer_of(event.source)
    system = policy.systems.get(writer)
    allowed = {"shared", writer} | ({system.role} if system is not None else set())
    found = []
    for path in sorted(fields_set(event)):
        owner = policy.field_owner(path)
        if owner is not None and owner not in allowed:
            found.append(Conflict(path, owner, writer))
    return found
