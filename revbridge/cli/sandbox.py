"""``revbridge sandbox run`` and ``revbridge demo``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer
import uvicorn
from rich.console import Console

from revbridge.sandboxes.control import SnapshotFile
from revbridge.sandboxes.registry import available, create

app = typer.Typer(help="Local emulators of Salesforce, NetSuite, Stripe and AvaTax.")
out = Console(highlight=False)


@app.command("run")
def run(
    only: list[str] = typer.Option([], "--only", help="Run only these sandboxes (repeatable)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    persist: Path | None = typer.Option(None, "--persist", help="SQLite file to keep state in."),
) -> None:
    """Serve the sandboxes on their default ports until interrupted."""
    specs = available()
    unknown = set(only) - set(specs)
    if unknown:
        raise typer.BadParameter(f"unknown sandbox {sorted(unknown)}; choose from {list(specs)}")
    names = only or list(specs)
    snapshot = SnapshotFile(persist) if persist else None
    servers = []
    for name in names:
        port = specs[name].default_port
        config = uvicorn.Config(
            create(name, persist=snapshot), host=host, port=port, log_level="warning"
        )
        servers.append(uvicorn.Server(config))
        out.print(f"{name:<11} http://{host}:{port}")
    asyncio.run(_serve_all(servers))


async def _serve_all(servers: list[Any]) -> None:
    await asyncio.gather(*(s.serve() for s in servers))


def demo() -> None:
    """Run the quote-to-cash demo on SQLite and the built-in sandboxes."""
    from revbridge.cli.demo import run_demo

    run_demo()
