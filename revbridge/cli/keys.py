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

from revbridge.app import open_store
from revbridge.cli.database import open_existing, shown
from revbridge.config.settings import Settings
from revbridge.observability.redaction import register_secret
from revbridge.store import api_keys, audit

app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)
ROLES = ("sales_ops", "finance_ops", "integration_support", "admin", "auditor")


@app.command("create")
def create(
    role: str = typer.Option(
        ..., help="sales_ops, finance_ops, integration_support, admin, auditor"
    ),
    name: str = typer.Option(..., help="Who or what uses the key (shown in the audit log)."),
    expires_days: int | None = typer.Option(None, "--expires-days", min=1, help="Days valid."),
) -> None:
    """Create a key and print it once."""
    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    engine = open_store(Settings())
    with engine.begin() as conn:
        key, token = api_keys.create(
            conn, name, role, None if expires_days is None else timedelta(days=expires_days)
        )
        audit.append(
            conn,
            actor=getpass.getuser(),
            action="api_key.created",
            subject=key.prefix,
            after={"name": name, "role": role, "expires_at": key.expires_at},
        )
    register_secret(token)
    out.print(f"key {key.id} ({role}) for {name}; store it now, it is not shown again:")
    print(token)


@app.command("list")
def listing() -> None:
    """Every key: id, name, role, created, expires, revoked (never the secret)."""
    settings = Settings()
    engine = open_existing(settings)
    with engine.connect() as conn:
        keys = api_keys.listing(conn)
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
    key_id = key_id.removeprefix(api_keys.PREFIX)
    with engine.begin() as conn:
        if not api_keys.revoke(conn, key_id):
            raise typer.BadParameter(f"no active key {key_id}")
        audit.append(conn, actor=getpass.getuser(), action="api_key.revoked", subject=key_id)
    out.print(f"key {key_id} revoked")
