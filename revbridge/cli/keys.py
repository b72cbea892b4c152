"""``revbridge keys create|list|revoke``: API keys for the HTTP API.

A key's secret is printed once, at creation, and stored only as a hash. Creating and
revoking keys is audited.
"""

from __future__ import annotations

import getpass
from datetime import timedelta

import typer
from rich.console import Console
from rich.table import Table

from revbridge.api.auth import ROLE_SCOPES, ROLES
from revbridge.app import open_store
from revbridge.cli.database import open_existing, shown
from revbridge.config.settings import Settings
from revbridge.observability.redaction import register_secret
from revbridge.service import access

app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)


@app.command("create")
def create(
    role: str = typer.Option(
        ...,
        help="; ".join(f"{r} ({', '.join(sorted(ROLE_SCOPES[r]))})" for r in ROLES),
    ),
    name: str = typer.Option(..., help="Who or what uses the key (shown in the audit log)."),
    expires_days: int | None = typer.Option(None, "--expires-days", min=1, help="Days valid."),
) -> None:
    """Create a key and print it once."""
    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    expires_in = None if expires_days is None else timedelta(days=expires_days)
    key, token = access.create_key(
        open_store(Settings()), name, role, expires_in, getpass.getuser()
    )
    register_secret(token)
    out.print(f"key {key.id} ({role}) for {name}; store it now, it is not shown again:")
    print(token)


@app.command("list")
def listing() -> None:
    """Every key: id, name, role, created, expires, revoked (never the secret)."""
    settings = Settings()
    engine = open_existing(settings)
    keys = access.keys(engine)
    table = Table()
    # ids and roles are typed back (revoke, API calls): whole, whatever the terminal's width
    table.add_column("id", no_wrap=True, min_width=max((len(k.id) for k in keys), default=2))
    table.add_column("name")
    table.add_column("role", no_wrap=True, min_width=max(map(len, ROLES)))
    for title in ("created", "expires", "revoked"):
        table.add_column(title)
    for k in keys:
        table.add_row(
            k.id,
            k.name,
            k.role,
            k.created_at.strftime("%Y-%m-%d %H:%M"),
            k.expires_at.strftime("%Y-%m-%d %H:%M") if k.expires_at else "",
            k.revoked_at.strftime("%Y-%m-%d %H:%M") if k.revoked_at else "",
        )
    out.print(table)
    out.print(f"{len(keys)} key(s) in {shown(settings)}", markup=False)


@app.command("revoke")
def revoke(key_id: str = typer.Argument(..., help="The key's id (rbk_<id>_…).")) -> None:
    """Revoke a key at once."""
    engine = open_existing(Settings())
    key_id = key_id.removeprefix(access.KEY_PREFIX)
    if not access.revoke_key(engine, key_id, getpass.getuser()):
        raise typer.BadParameter(f"no active key {key_id}")
    out.print(f"key {key_id} revoked")
