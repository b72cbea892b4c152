"""``revbridge schema export DIR``: the canonical model as JSON Schema files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from revbridge.canonical.schema import export_schemas

app = typer.Typer(help="Canonical model schemas.", no_args_is_help=True)
out = Console(highlight=False)


@app.command("export")
def export(directory: Path = typer.Argument(..., help="Directory to write into.")) -> None:
    """Write one JSON Schema per canonical model into DIRECTORY."""
    written = export_schemas(directory)
    out.print(f"wrote {len(written)} schemas to {directory}")
