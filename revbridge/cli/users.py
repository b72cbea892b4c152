"""``revbridge users create|list|disable``: the people who sign in to the web console.

Users have the same roles as API keys (``revbridge.api.auth.ROLES``). The password is
read from a prompt (asked twice) or, for scripts, from standard input with
``--password-stdin``; it is stored only as an argon2 hash and never printed. Creating and
disabling users is audited.
"""

from __future__ import annotations

import getpass
import re
import sys

import typer
from rich.console import Console
from rich.table import Table

from revbridge.api.auth import ROLES
from revbridge.app import open_store
from revbridge.cli.database import open_existing
from revbridge.config.settings import Settings
from revbridge.service import access

app = typer.Typer(help="Console users: create, list, disable.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,79}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise typer.BadParameter(
            f"the password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )
    return password


@app.command("create")
def create(
    role: str = typer.Option(..., help=", ".join(ROLES)),
    username: str = typer.Option(..., help="What the user types to sign in."),
    name: str = typer.Option(..., help="The person's name, shown in the console."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (one line)."
    ),
) -> None:
    """Create a console user; the password is asked for twice (or read from stdin)."""
    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    if not USERNAME.match(username):
        raise typer.BadParameter("username: letters, digits and . _ @ - (at most 80)")
    if not name.strip() or len(name) > 200:
        raise typer.BadParameter("name: 1 to 200 characters")
    password = _password(password_stdin)
    user = access.create_user(
        open_store(Settings()), username, name.strip(), role, password, getpass.getuser()
    )
    out.print(f"console user {user.username} ({user.role}) created")


@app.command("list")
def listing() -> None:
    """Every console user: username, name, role, created, disabled (never the hash)."""
    users = access.users(open_existing(Settings()))
    table = Table("username", "name", "role", "created", "disabled")
    for u in users:
        table.add_row(
            u.username,
            u.display_name,
            u.role,
            u.created_at.strftime("%Y-%m-%d %H:%M"),
            u.disabled_at.strftime("%Y-%m-%d %H:%M") if u.disabled_at else "",
        )
    out.print(table)


@app.command("disable")
def disable(username: str = typer.Argument(..., help="The user to disable.")) -> None:
    """Disable a user at once: their sessions end and they cannot sign in again."""
    if not access.disable_user(open_existing(Settings()), username, getpass.getuser()):
        raise typer.BadParameter(f"no enabled console user {username}")
    out.print(f"console user {username} disabled")
