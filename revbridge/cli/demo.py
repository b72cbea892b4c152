"""``revbridge demo``: the quote-to-cash demo on SQLite and the built-in sandboxes."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from revbridge.app import load_and_record_policy, open_store
from revbridge.config.policy import Policy
from revbridge.config.settings import Settings

out = Console(highlight=False)
EXAMPLE_POLICY = Path("examples/revbridge.yaml")


def print_estate(policy: Policy) -> None:
    """Summarise the estate a policy describes: systems, entities, routing, products."""
    out.print(f"[bold]{policy.company or 'estate'}[/bold]")
    systems = Table("system", "kind", "role", "base URL", title="Systems")
    for name, system in policy.systems.items():
        systems.add_row(name, system.kind, system.role, system.base_url)
    entities = Table(
        "entity", "name", "currency", "ERP subsidiary", "tax nexus", title="Legal entities"
    )
    for code, entity in policy.legal_entities.items():
        entities.add_row(
            code,
            entity.name,
            entity.functional_currency,
            entity.erp_subsidiary,
            ", ".join(entity.tax_nexus),
        )
    routing = Table("billing country", "regions", "legal entity", title="Routing")
    for rule in policy.routing.rules:
        routing.add_row(rule.country, ", ".join(rule.regions) or "all", rule.legal_entity)
    products = Table("sku", "kind", "ERP item", "prices", "tax code", title="Products")
    for sku, product in policy.products.items():
        prices = ", ".join(f"{c} {a}" for c, a in product.billing.prices.items())
        products.add_row(sku, product.kind, product.erp_item, prices, product.tax_code)
    for table in (systems, entities, routing, products):
        out.print(table)


def run_demo(policy_path: Path = EXAMPLE_POLICY) -> None:
    settings = Settings()
    engine = open_store(settings)
    policy, digest = load_and_record_policy(engine, policy_path, "demo")
    out.print(
        f"database {engine.url.render_as_string(hide_password=True)} ready; "
        f"policy {policy_path} ({digest[:12]}) recorded"
    )
    print_estate(policy)
