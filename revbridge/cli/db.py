"""``revbridge db`` and ``revbridge audit``: migrations and the audit chain."""

from __future__ import annotations

import typer
from rich.console import Console

from revbridge.app import open_store
from revbridge.cli.database import open_existing
from revbridge.config.settings import Settings
from revbridge.service import audit, database

app = typer.Typer(help="Database schema.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
out = Console(highlight=False)


@app.command("upgrade")
def upgrade() -> None:
    """Create or migrate revbridge's tables to the newest version."""
    engine = open_store(Settings(), upgrade=False)
    revision = database.upgrade(engine)
    out.print(f"database {database.shown_of(engine)} at revision {revision}")


@audit_app.command("verify")
def verify() -> None:
    """Check the audit chain; exit 1 naming the first edited, inserted or deleted row."""
    engine = open_existing(Settings())
    report = audit.verify(engine)
    out.print(str(report))
    if not report.ok:
        raise typer.Exit(1)
