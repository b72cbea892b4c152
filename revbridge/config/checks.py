"""Checks that relate one part of the policy file to another.

Run on :class:`~revbridge.config.sections.Sections` so that they work on whatever passed
the schema. Each check yields :class:`~revbridge.config.sections.Finding` values pointing at
the node they are about. Routing coverage lives in :mod:`revbridge.config.coverage`, the
inline-secret scan in :mod:`revbridge.config.secretscan`.
"""

from __future__ import annotations

from collections.abc import Iterator

from revbridge.config.coverage import routing_findings
from revbridge.config.policy import PRODUCT
from revbridge.config.sections import Finding, Sections
from revbridge.config.systems import ROLES

_ENTITY_SYSTEMS = (("erp_system", "erp"), ("tax_system", "tax"), ("billing_system", "billing"))


def cross_check(sections: Sections) -> list[Finding]:
    """Every cross-reference finding, in no particular order."""
    return [
        *_ownership(sections),
        *_entity_systems(sections),
        *_entities(sections),
        *routing_findings(sections),
        *_products(sections),
        *_alerts(sections),
        *_endpoints(sections),
    ]


def _with_role(sections: Sections, role: str) -> list[str]:
    return [name for name, system in sections.systems.items() if system.role == role]


def _ownership(sections: Sections) -> Iterator[Finding]:
    ownership = sections.ownership
    if ownership is None:
        return
    for domain, owner in ownership.domains.model_dump().items():
        path = ("ownership", "domains", domain)
        keywords = ("shared", PRODUCT) if domain == "usage" else ("shared",)
        yield from _owner(sections, path, f"domain {domain}", owner, keywords)
    for name, owner in ownership.fields.items():
        path = ("ownership", "fields", name)
        yield from _owner(sections, path, f"field {name}", owner, ("shared", "revbridge"))


def _owner(
    sections: Sections, path: tuple[str, ...], what: str, owner: str, keywords: tuple[str, ...]
) -> Iterator[Finding]:
    if owner in keywords or owner in sections.system_names:
        return
    if owner in ROLES:
        if sections.systems_complete and not _with_role(sections, owner):
            yield Finding(path, f"ownership of {what} names role {owner}, but no system has it")
        return
    choices = [
        f"a system ({', '.join(sections.system_names)})",
        f"a role ({', '.join(ROLES)})",
        *keywords,
    ]
    yield Finding(
        path,
        f"unknown system '{owner}' in ownership of {what}; write "
        f"{', '.join(choices[:-1])} or {choices[-1]}",
    )


def _entity_systems(sections: Sections) -> Iterator[Finding]:
    for code, entity in sections.entities.items():
        for attribute, role in _ENTITY_SYSTEMS:
            name = getattr(entity, attribute)
            path = ("legal_entities", code, attribute)
            if name is None:
                candidates = _with_role(sections, role)
                if len(candidates) > 1:
                    yield Finding(
                        ("legal_entities", code),
                        f"legal entity {code} must set {attribute}: several systems have role "
                        f"{role} ({', '.join(candidates)})",
                    )
            elif name not in sections.system_names:
                yield Finding(
                    path,
                    f"unknown system '{name}' in {attribute} of legal entity {code}; "
                    f"systems: {', '.join(sections.system_names)}",
                )
            elif name in sections.systems and sections.systems[name].role != role:
                yield Finding(
                    path,
                    f"{attribute} of legal entity {code} names {name}, which has role "
                    f"{sections.systems[name].role}, not {role}",
                )


def _entities(sections: Sections) -> Iterator[Finding]:
    subsidiaries: dict[str, str] = {}
    companies: dict[str, str] = {}
    for code, entity in sections.entities.items():
        if not entity.tax_nexus:
            yield Finding(
                ("legal_entities", code, "tax_nexus"),
                f"legal entity {code} has no tax nexus: list in tax_nexus the jurisdictions "
                "where it collects tax (e.g. US-NY, GB)",
            )
        for attribute, seen in (("erp_subsidiary", subsidiaries), ("tax_company_code", companies)):
            value = getattr(entity, attribute)
            if value in seen:
                yield Finding(
                    ("legal_entities", code, attribute),
                    f"{attribute} '{value}' of legal entity {code} is already used by "
                    f"{seen[value]}",
                )
            seen.setdefault(value, code)


def _products(sections: Sections) -> Iterator[Finding]:
    sold_in: dict[str, list[str]] = {}
    for code, entity in sections.entities.items():
        sold_in.setdefault(entity.functional_currency, []).append(code)
    lookup_keys: dict[str, str] = {}
    for sku, product in sections.products.items():
        yield from _billing_shape(
            sku, product.kind, product.billing.interval, product.billing.usage_type
        )
        for currency, codes in sold_in.items():
            if currency not in product.billing.prices:
                yield Finding(
                    ("products", sku, "billing", "prices"),
                    f"product {sku} has no {currency} price, but {', '.join(codes)} "
                    f"invoice{'s' if len(codes) == 1 else ''} in {currency}",
                )
        key = product.billing.price_lookup_key
        if key in lookup_keys:
            yield Finding(
                ("products", sku, "billing", "price_lookup_key"),
                f"price_lookup_key '{key}' of product {sku} is already used by "
                f"product {lookup_keys[key]}",
            )
        lookup_keys.setdefault(key, sku)


def _billing_shape(sku: str, kind: str, interval: str | None, usage: str) -> Iterator[Finding]:
    billing = ("products", sku, "billing")
    if kind == "service" and interval is not None:
        yield Finding(
            (*billing, "interval"),
            f"product {sku} is a service, billed once: remove billing.interval",
        )
    if kind != "service" and interval is None:
        yield Finding(
            (*billing, "interval"),
            f"product {sku} is a {kind} product: set billing.interval to month or year",
        )
    if kind == "usage" and usage != "metered":
        yield Finding(
            (*billing, "usage_type"),
            f"product {sku} is a usage product: set billing.usage_type to metered",
        )
    if kind != "usage" and usage == "metered":
        yield Finding(
            (*billing, "usage_type"),
            f"product {sku} is a {kind} product: metered billing is for usage products",
        )


def _alerts(sections: Sections) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for index, alert in sections.alerts.items():
        if alert.name in seen:
            yield Finding(
                ("alerts", index, "name"),
                f"alert name '{alert.name}' is already used by alert {seen[alert.name] + 1}",
            )
        seen.setdefault(alert.name, index)


def _endpoints(sections: Sections) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for index, endpoint in sections.endpoints.items():
        if endpoint.name in seen:
            yield Finding(
                ("entitlements", "endpoints", index, "name"),
                f"entitlement endpoint name '{endpoint.name}' is already used by endpoint "
                f"{seen[endpoint.name] + 1}",
            )
        seen.setdefault(endpoint.name, index)
