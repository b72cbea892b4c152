"""The parts of a policy file that passed the schema, for the cross-reference checks.

When the whole file validates, :func:`sections_from_policy` takes everything from the
``Policy``. When it does not, :func:`sections_from_data` validates each section, and each
entry of the keyed sections, on its own, keeping what passed; the ``*_complete`` flags say
whether anything was left out, so that checks which need the whole picture can stay silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from revbridge.config.codes import Jurisdiction
from revbridge.config.policy import (
    Alert,
    EntitlementEndpoint,
    EntityCode,
    LegalEntity,
    Ownership,
    Policy,
    Product,
    RoutingRule,
)
from revbridge.config.source import Anchor, PathItem
from revbridge.config.systems import System, SystemBase

T = TypeVar("T")


@dataclass(frozen=True)
class Finding:
    """A problem found by a check: the path of the node it is about, and what is wrong."""

    path: tuple[PathItem, ...]
    message: str
    anchor: Anchor = "auto"


@dataclass
class Sections:
    """Validated parts of a policy; names are taken from the file even when entries failed."""

    system_names: list[str] = field(default_factory=list)
    systems: dict[str, SystemBase] = field(default_factory=dict)
    systems_complete: bool = True
    entity_names: list[str] = field(default_factory=list)
    entities: dict[str, LegalEntity] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    ownership: Ownership | None = None
    rules: dict[int, RoutingRule] = field(default_factory=dict)
    default_entity: str | None = None
    routing_complete: bool = True
    markets: dict[int, str] = field(default_factory=dict)
    alerts: dict[int, Alert] = field(default_factory=dict)
    endpoints: dict[int, EntitlementEndpoint] = field(default_factory=dict)


def sections_from_policy(policy: Policy) -> Sections:
    """Everything, from a policy that passed the schema."""
    return Sections(
        system_names=list(policy.systems),
        systems=dict(policy.systems),
        entity_names=list(policy.legal_entities),
        entities=dict(policy.legal_entities),
        products=dict(policy.products),
        ownership=policy.ownership,
        rules=dict(enumerate(policy.routing.rules)),
        default_entity=policy.routing.default,
        markets=dict(enumerate(policy.markets)),
        alerts=dict(enumerate(policy.alerts)),
        endpoints=dict(enumerate(policy.entitlements.endpoints if policy.entitlements else [])),
    )


_SYSTEM: TypeAdapter[SystemBase] = TypeAdapter(System)
_ENTITY = TypeAdapter(LegalEntity)
_PRODUCT = TypeAdapter(Product)
_OWNERSHIP = TypeAdapter(Ownership)
_RULE = TypeAdapter(RoutingRule)
_ENTITY_CODE: TypeAdapter[str] = TypeAdapter(EntityCode)
_MARKET: TypeAdapter[str] = TypeAdapter(Jurisdiction)
_ALERT = TypeAdapter(Alert)
_ENDPOINT = TypeAdapter(EntitlementEndpoint)


def sections_from_data(data: dict[str, Any]) -> Sections:
    """What passed, entry by entry, from a document that failed the schema somewhere."""
    sections = Sections()
    systems = _mapping(data.get("systems"))
    sections.system_names = [str(name) for name in systems]
    sections.systems = _entries(_SYSTEM, systems)
    sections.systems_complete = bool(systems) and len(sections.systems) == len(systems)
    entities = _mapping(data.get("legal_entities"))
    sections.entity_names = [str(code) for code in entities]
    sections.entities = _entries(_ENTITY, entities)
    sections.products = _entries(_PRODUCT, _mapping(data.get("products")))
    sections.ownership = _valid(_OWNERSHIP, data.get("ownership", {}))
    routing = _mapping(data.get("routing"))
    rules = _sequence(routing.get("rules"))
    sections.rules = _items(_RULE, rules)
    default = routing.get("default")
    sections.default_entity = _valid(_ENTITY_CODE, default) if default is not None else None
    sections.routing_complete = bool(rules) and len(sections.rules) == len(rules)
    sections.routing_complete &= default is None or sections.default_entity is not None
    sections.markets = _items(_MARKET, _sequence(data.get("markets")))
    sections.alerts = _items(_ALERT, _sequence(data.get("alerts")))
    endpoints = _mapping(data.get("entitlements")).get("endpoints")
    sections.endpoints = _items(_ENDPOINT, _sequence(endpoints))
    return sections


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _valid(adapter: TypeAdapter[T], value: Any) -> T | None:
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


def _entries(adapter: TypeAdapter[T], values: dict[Any, Any]) -> dict[str, T]:
    valid = {str(key): _valid(adapter, value) for key, value in values.items()}
    return {key: value for key, value in valid.items() if value is not None}


def _items(adapter: TypeAdapter[T], values: list[Any]) -> dict[int, T]:
    valid = {index: _valid(adapter, value) for index, value in enumerate(values)}
    return {index: value for index, value in valid.items() if value is not None}
