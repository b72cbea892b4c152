"""What changed between two policies, in the words of the people who run the business.

:func:`diff_policies` returns one line per change, prefixed by its group (``systems``,
``policies``, ``legal entities``, ``markets``, ``routing``, ``mappings``, ``ownership``,
``exceptions``, ``sla``, ``alerts``), groups in that order. Routing is compared by outcome
(where each billing country or region is sent), not by rule text, so reordering rules
without effect prints nothing. Credentials are shown by environment variable name only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from revbridge.config.policy import Policy, Product
from revbridge.config.systems import SystemBase

_UNSET = "(unset)"


def diff_policies(old: Policy, new: Policy) -> list[str]:
    """One line per business-level change from ``old`` to ``new``; empty when equivalent."""
    groups: list[tuple[str, Iterable[str]]] = [
        ("systems", _systems(old, new)),
        ("policies", _call_policies(old, new)),
        ("legal entities", _entities(old, new)),
        ("markets", _markets(old, new)),
        ("routing", _routing(old, new)),
        ("mappings", _products(old, new)),
        ("ownership", _ownership(old, new)),
        ("exceptions", _exceptions(old, new)),
        ("sla", _changes("", _flat(old.sla), _flat(new.sla))),
        ("alerts", _alerts(old, new)),
    ]
    return [f"{group}: {line}" for group, lines in groups for line in lines]


def _fmt(value: Any) -> str:
    if value is None:
        return _UNSET
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return ", ".join(_fmt(v) for v in value) or "none"
    return str(value)


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested models and mappings as ``{"a.b": leaf}`` (aliases as spelled in the file)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(by_alias=True)
    if not isinstance(value, Mapping):
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, child in value.items():
        flat.update(_flat(child, f"{prefix} {key}".strip() if prefix else str(key)))
    return flat


def _changes(subject: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[str]:
    lead = f"{subject} " if subject else ""
    for key in [*new, *(k for k in old if k not in new)]:
        before, after = old.get(key), new.get(key)
        if before != after:
            yield f"{lead}{key} {_fmt(before)} → {_fmt(after)}"


def _added_removed(old: Iterable[str], new: Iterable[str]) -> tuple[list[str], list[str]]:
    old_list, new_list = list(old), list(new)
    return (
        [k for k in new_list if k not in old_list],
        [k for k in old_list if k not in new_list],
    )


def _systems(old: Policy, new: Policy) -> Iterator[str]:
    added, removed = _added_removed(old.systems, new.systems)
    for name in added:
        system = new.systems[name]
        yield f"new system {name} ({system.kind}, {system.role}) at {system.base_url}"
    for name in removed:
        yield f"removed system {name}"
    for name in (n for n in new.systems if n in old.systems):
        before, after = old.systems[name], new.systems[name]
        yield from _changes(name, _identity(before), _identity(after))
        yield from _credentials(name, before, after)


def _identity(system: SystemBase) -> dict[str, Any]:
    options = _flat(getattr(system, "options", {}))
    fields = {"kind": system.kind, "role": system.role, "base_url": system.base_url}
    return fields | {f"option {key}": value for key, value in options.items()}


def _credentials(name: str, old: SystemBase, new: SystemBase) -> Iterator[str]:
    before = {key: ref.env for key, ref in old.credentials.items()}
    after = {key: ref.env for key, ref in new.credentials.items()}
    for key in [*after, *(k for k in before if k not in after)]:
        if key not in before:
            yield f"{name} credential {key} is now read from {after[key]}"
        elif key not in after:
            yield f"{name} credential {key} removed (was read from {before[key]})"
        elif before[key] != after[key]:
            yield f"{name} credential {key} now read from {after[key]} (was {before[key]})"


def _call_policies(old: Policy, new: Policy) -> Iterator[str]:
    for name in (n for n in new.systems if n in old.systems):
        yield from _changes(
            name, {"timeout_s": old.timeout_for(name)}, {"timeout_s": new.timeout_for(name)}
        )
        yield from _changes(f"{name} retry", _flat(old.retry_for(name)), _flat(new.retry_for(name)))
        yield from _changes(
            f"{name} rate_limit", _flat(old.rate_limit_for(name)), _flat(new.rate_limit_for(name))
        )


def _entities(old: Policy, new: Policy) -> Iterator[str]:
    added, removed = _added_removed(old.legal_entities, new.legal_entities)
    for code in added:
        entity = new.legal_entities[code]
        yield (
            f"new legal entity {code} ({entity.name}, {entity.country}, "
            f"{entity.functional_currency}), tax nexus {_fmt(entity.tax_nexus)}"
        )
    for code in removed:
        yield f"removed legal entity {code}"
    for code in (c for c in new.legal_entities if c in old.legal_entities):
        before, after = old.legal_entities[code], new.legal_entities[code]
        nexus_added, nexus_removed = _added_removed(before.tax_nexus, after.tax_nexus)
        if nexus_added:
            yield f"{code} tax nexus added {_fmt(nexus_added)}"
        if nexus_removed:
            yield f"{code} tax nexus removed {_fmt(nexus_removed)}"
        fields = {"tax_nexus"}
        yield from _changes(
            code,
            _flat(before.model_dump(exclude=fields, by_alias=True)),
            _flat(after.model_dump(exclude=fields, by_alias=True)),
        )


def _markets(old: Policy, new: Policy) -> Iterator[str]:
    added, removed = _added_removed(old.markets, new.markets)
    if added:
        yield f"now selling in {_fmt(added)}"
    if removed:
        yield f"no longer selling in {_fmt(removed)}"


def _routes(policy: Policy) -> list[tuple[str, str | None]]:
    keys: list[tuple[str, str | None]] = []
    for rule in policy.routing.rules:
        regions: list[str | None] = [*rule.regions] or [None]
        keys.extend((rule.country, region) for region in regions)
    return keys


def _routing(old: Policy, new: Policy) -> Iterator[str]:
    keys = list(dict.fromkeys([*_routes(new), *_routes(old)]))
    for country, region in keys:
        before, after = old.route(country, region), new.route(country, region)
        if before == after:
            continue
        what = (
            f"billing country {country}" if region is None else f"billing region {country}-{region}"
        )
        if after is None:
            yield f"{what} no longer routes to a legal entity (was {before})"
        elif before is None:
            yield f"{what} now routes to {after} (was not routed)"
        else:
            yield f"{what} now routes to {after} instead of {before}"
    if old.routing.default != new.routing.default:
        yield f"default legal entity {_fmt(old.routing.default)} → {_fmt(new.routing.default)}"


def _products(old: Policy, new: Policy) -> Iterator[str]:
    added, removed = _added_removed(old.products, new.products)
    for sku in added:
        product = new.products[sku]
        yield f"new product {sku} ({product.kind}) maps to ERP item {product.erp_item}"
    for sku in removed:
        yield f"removed product {sku}"
    for sku in (s for s in new.products if s in old.products):
        yield from _product(sku, old.products[sku], new.products[sku])


def _product(sku: str, old: Product, new: Product) -> Iterator[str]:
    if old.erp_item != new.erp_item:
        yield f"product {sku} now maps to ERP item {new.erp_item} (was {old.erp_item})"
    before, after = old.billing.prices, new.billing.prices
    for currency in [*after, *(c for c in before if c not in after)]:
        if currency not in before:
            yield f"product {sku} new {currency} price {_fmt(after[currency])}"
        elif currency not in after:
            yield f"product {sku} no {currency} price any more (was {_fmt(before[currency])})"
        elif before[currency] != after[currency]:
            change = f"{_fmt(before[currency])} → {_fmt(after[currency])}"
            yield f"product {sku} {currency} price {change}"
    skip: dict[str, Any] = {"erp_item": True, "billing": {"prices": True}}
    yield from _changes(
        f"product {sku}",
        _flat(old.model_dump(exclude=skip, by_alias=True)),
        _flat(new.model_dump(exclude=skip, by_alias=True)),
    )


def _ownership(old: Policy, new: Policy) -> Iterator[str]:
    before, after = old.ownership.domains.model_dump(), new.ownership.domains.model_dump()
    for domain in after:
        if before[domain] != after[domain]:
            yield f"domain {domain} owner: {before[domain]} → {after[domain]}"
    fields_before, fields_after = old.ownership.fields, new.ownership.fields
    for name in [*fields_after, *(f for f in fields_before if f not in fields_after)]:
        if fields_before.get(name) != fields_after.get(name):
            yield (
                f"field {name} owner: {_fmt(fields_before.get(name))} → "
                f"{_fmt(fields_after.get(name))}"
            )


def _exceptions(old: Policy, new: Policy) -> Iterator[str]:
    before, after = old.exceptions, new.exceptions
    if before.default != after.default:
        yield f"default owner: {before.default} → {after.default}"
    for name in [*after.owners, *(c for c in before.owners if c not in after.owners)]:
        if before.owners.get(name) != after.owners.get(name):
            yield (
                f"failure class {name} owner: {_fmt(before.owners.get(name))} → "
                f"{_fmt(after.owners.get(name))}"
            )
    for owner in [*after.guidance, *(o for o in before.guidance if o not in after.guidance)]:
        if before.guidance.get(owner) != after.guidance.get(owner):
            yield f"guidance for {owner} changed"


def _alerts(old: Policy, new: Policy) -> Iterator[str]:
    before = {alert.name: alert for alert in old.alerts}
    after = {alert.name: alert for alert in new.alerts}
    added, removed = _added_removed(before, after)
    for name in added:
        alert = after[name]
        yield f"new alert {name}: {alert.condition} above {_fmt(alert.threshold)}"
    for name in removed:
        yield f"removed alert {name}"
    for name in (n for n in after if n in before):
        yield from _changes(f"alert {name}", _flat(before[name]), _flat(after[name]))
