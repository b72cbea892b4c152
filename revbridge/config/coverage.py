"""Routing coverage: rules that overlap, and legal entities or markets left unrouted.

Rules are tried in order and the first match wins, so a rule for some regions of a country
may come before the rule for the whole country (specific before general). Two rules
*overlap* when a later rule could never be reached for some address:

- two country-wide rules for the same country;
- the same region of a country listed by two rules (or twice by one);
- a rule for regions of a country after the country-wide rule for it.

Routing is *missing* when:

- a legal entity is neither the target of a rule nor ``routing.default``;
- ``markets`` is given and one of its entries is not matched by a rule. ``routing.default``
  does not count here: it catches billing countries outside the markets sold to on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator

from revbridge.config.codes import country_of
from revbridge.config.sections import Finding, Sections


def routing_findings(sections: Sections) -> Iterator[Finding]:
    """Unknown target entities, overlaps and missing routes."""
    yield from _unknown_entities(sections)
    yield from _overlaps(sections)
    if sections.routing_complete:
        yield from _unrouted_entities(sections)
        yield from _unrouted_markets(sections)


def _unknown_entities(sections: Sections) -> Iterator[Finding]:
    known = ", ".join(sections.entity_names)
    for index, rule in sections.rules.items():
        if rule.legal_entity not in sections.entity_names:
            yield Finding(
                ("routing", "rules", index, "legal_entity"),
                f"routing rule {index + 1} ({rule.country}) routes to unknown legal entity "
                f"'{rule.legal_entity}'; legal entities: {known}",
            )
    default = sections.default_entity
    if default is not None and default not in sections.entity_names:
        yield Finding(
            ("routing", "default"),
            f"routing default names unknown legal entity '{default}'; legal entities: {known}",
        )


def _overlaps(sections: Sections) -> Iterator[Finding]:
    whole: dict[str, int] = {}
    regional: dict[tuple[str, str], int] = {}
    for index, rule in sorted(sections.rules.items()):
        here = ("routing", "rules", index)
        if not rule.regions:
            if rule.country in whole:
                yield _overlap(sections, here, index, whole[rule.country], rule.country)
            whole.setdefault(rule.country, index)
            continue
        for position, region in enumerate(rule.regions):
            label = f"{rule.country}-{region}"
            at = (*here, "regions", position)
            earlier = whole.get(rule.country, regional.get((rule.country, region)))
            if earlier == index:
                yield Finding(at, f"routing rule {index + 1} lists region {label} twice")
            elif earlier is not None:
                yield _overlap(sections, at, index, earlier, label)
            regional.setdefault((rule.country, region), index)


def _overlap(
    sections: Sections, path: tuple[str | int, ...], index: int, earlier: int, label: str
) -> Finding:
    target = sections.rules[earlier].legal_entity
    return Finding(
        path,
        f"routing rule {index + 1} ({label}) overlaps rule {earlier + 1}, which already "
        f"routes {label} to {target}",
    )


def _unrouted_entities(sections: Sections) -> Iterator[Finding]:
    routed = {rule.legal_entity for rule in sections.rules.values()}
    routed.add(sections.default_entity or "")
    for code in sections.entity_names:
        if code not in routed:
            yield Finding(
                ("legal_entities", code),
                f"legal entity {code} is never routed to: no routing rule sends customers to "
                "it and it is not routing.default",
                anchor="key",
            )


def _unrouted_markets(sections: Sections) -> Iterator[Finding]:
    for index, market in sections.markets.items():
        country = country_of(market)
        region = market[len(country) + 1 :] or None
        if not any(
            rule.country == country and (not rule.regions or region in rule.regions)
            for rule in sections.rules.values()
        ):
            yield Finding(
                ("markets", index),
                f"market {market} is not routed: add a routing rule for {market} "
                "(routing.default only catches countries outside markets)",
            )
