"""``revbridge users create|list|disable`` against a real SQLite database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from revbridge.cli import app
from revbridge.store import console_users
from revbridge.store.db import create_store_engine
from revbridge.store.tables import audit_log

PASSWORD = "a long enough passphrase"


def test_create_list_and_disable_users(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'revbridge.db'}"
    env = {"REVBRIDGE_DATABASE_URL": url}
    runner = CliRunner()

    def users(*args: str, typed: str = "") -> tuple[int, str]:
        result = runner.invoke(app, ["users", *args], input=typed, env=env)
        return result.exit_code, result.output

    code, out = users(
        "create", "--role", "finance_ops", "--username", "fiona", "--name", "Fiona Finance",
        "--password-stdin", typed=f"{PASSWORD}\n",
    )  # fmt: skip
    assert (code, out.strip()) == (0, "console user fiona (finance_ops) created")
    code, out = users(
        "create", "--role", "sales_ops", "--username", "sam", "--name", "Sam Sales",
        typed=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert code == 0, out
    assert PASSWORD not in out
    assert users("create", "--role", "ceo", "--username", "x", "--name", "X")[0] == 2
    short = users(
        "create", "--role", "admin", "--username", "ada", "--name", "Ada", "--password-stdin",
        typed="short\n",
    )  # fmt: skip
    assert short[0] == 2
    assert "10 to 1024 characters" in short[1]
    again = runner.invoke(
        app,
        ["users", "create", "--role", "admin", "--username", "fiona", "--name", "F",
         "--password-stdin"],
        input=f"{PASSWORD}\n",
        env=env,
    )  # fmt: skip
    assert "already exists" in str(again.exception)
    code, out = users("list")
    assert code == 0
    assert "fiona" in out
    assert "Sam Sales" in out
    assert "argon2" not in out
    assert users("disable", "sam")[0] == 0
    assert users("disable", "sam")[0] == 2
    engine = create_store_engine(url)
    with engine.connect() as conn:
        assert console_users.authenticate(conn, "fiona", PASSWORD) is not None
        assert console_users.authenticate(conn, "sam", PASSWORD) is None
        actions = [r.action for r in conn.execute(select(audit_log.c.action))]
    engine.dispose()
    assert actions == ["console_user.created", "console_user.created", "console_user.disabled"]
