"""``revbridge sandbox run`` and ``revbridge demo``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer
import uvicorn
from rich.console import Console

from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.policy import Policy
from revbridge_sandboxes.control import SnapshotFile
from revbridge_sandboxes.registry import available, create
from revbridge_sandboxes.seed import CatalogItem, seed_estate

app = typer.Typer(help="Local emulators of Salesforce, NetSuite, Stripe and AvaTax.")
out = Console(highlight=False)


@app.command("run")
def run(
    only: list[str] = typer.Option([], "--only", help="Run only these sandboxes (repeatable)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    persist: Path | None = typer.Option(None, "--persist", help="SQLite file to keep state in."),
    port_offset: int = typer.Option(0, "--port-offset", help="Add this to every default port."),
) -> None:
    """Serve the sandboxes (Salesforce 8701, NetSuite 8702, Stripe 8703, AvaTax 8704)."""
    specs = available()
    unknown = set(only) - set(specs)
    if unknown:
        raise typer.BadParameter(f"unknown sandbox {sorted(unknown)}; choose from {list(specs)}")
    names = only or list(specs)
    snapshot = SnapshotFile(persist) if persist else None
    servers = []
    for name in names:
        port = specs[name].default_port + port_offset
        config = uvicorn.Config(
            create(name, persist=snapshot), host=host, port=port, log_level="warning"
        )
        servers.append(uvicorn.Server(config))
        out.print(f"{name:<11} http://{host}:{port}")
    asyncio.run(_serve_all(servers))


async def _serve_all(servers: list[Any]) -> None:
    await asyncio.gather(*(s.serve() for s in servers))


@app.command("seed")
def seed(
    deals: int = typer.Option(200, "--deals", help="How many open opportunities to create."),
    seed_value: int = typer.Option(7, "--seed", help="Seed of the random book of business."),
    defects: float = typer.Option(0.1, "--defects", help="Fraction of deals with a defect."),
    policy: Path = typer.Option(EXAMPLE_POLICY, help="Policy with the catalog."),
    host: str = typer.Option("127.0.0.1", "--host", help="Where the sandboxes run."),
    port_offset: int = typer.Option(0, "--port-offset", help="As given to `sandbox run`."),
) -> None:
    """Create a realistic estate in running sandboxes (`revbridge sandbox run`)."""
    from revbridge.config.load import load_policy
    from revbridge.testing.estate import LocalEstate

    specs = available()
    estate = LocalEstate(
        urls={n: f"http://{host}:{s.default_port + port_offset}" for n, s in specs.items()}
    )
    manifest = seed_estate(
        estate.endpoints(), catalog_from_policy(load_policy(policy)), deals, seed_value, defects
    )
    out.print(f"created {manifest.accounts} accounts and {len(manifest.deals)} opportunities")
    for opportunity, defect in manifest.defective().items():
        out.print(f"  {opportunity}: {defect}")


def catalog_from_policy(policy: Policy) -> list[CatalogItem]:
    """The price book the policy maps, as the seed creates it in the CRM and billing."""
    return [
        CatalogItem(
            sku=sku,
            name=p.name,
            kind=p.kind,
            prices=dict(p.billing.prices),
            lookup_key=p.billing.price_lookup_key,
            interval=p.billing.interval,
            usage_type=p.billing.usage_type,
        )
        for sku, p in policy.products.items()
    ]
