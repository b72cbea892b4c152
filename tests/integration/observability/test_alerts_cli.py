"""``revbridge alerts evaluate|list`` as an operator runs them, on the example policy's rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from revbridge.app import open_store
from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.settings import Settings
from revbridge.store import cases
from revbridge.store.tables import exception_cases
from revbridge.testing.servers import serve

REVBRIDGE = str(Path(sys.executable).with_name("revbridge"))


@pytest.fixture
def hook() -> Iterator[tuple[list[dict[str, Any]], str]]:
    received: list[dict[str, Any]] = []

    async def receive(request: Request) -> JSONResponse:
        received.append(json.loads(await request.body()))
        return JSONResponse({"ok": True})

    with serve(Starlette(routes=[Route("/hook", receive, methods=["POST"])])) as url:
        yield received, f"{url}/hook"


def test_evaluate_announces_a_firing_rule_and_list_shows_it(
    tmp_path: Path, hook: tuple[list[dict[str, Any]], str]
) -> None:
    received, url = hook
    database_url = f"sqlite:///{tmp_path / 'revbridge.db'}"
    engine = open_store(Settings(database_url=database_url))  # type: ignore[arg-type]
    with engine.begin() as conn:
        case, _ = cases.raise_case(
            conn,
            deal_key="salesforce:006CLI",
            workflow_id="quote_to_cash:salesforce:006CLI",
            owner="finance_ops",
            failure_class="tax",
            rule="tax.nexus",
            message="no nexus",
            guidance="register nexus, then retry",
            context={},
            actions=["retry"],
            correlation_id="corr-cli",
        )
        conn.execute(
            update(exception_cases)
            .where(exception_cases.c.case_id == case.case_id)
            .values(created_at=datetime.now(UTC) - timedelta(hours=5))
        )
    engine.dispose()
    env = {
        **os.environ,
        "REVBRIDGE_DATABASE_URL": database_url,
        "ALERT_WEBHOOK_FINANCE": url,
        "ALERT_WEBHOOK_OPS": url,
        "COLUMNS": "200",  # one table row per line
    }

    def revbridge(*args: str) -> str:
        result = subprocess.run(
            [REVBRIDGE, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert url not in result.stdout + result.stderr  # the webhook URL is a secret
        return result.stdout

    first = revbridge("alerts", "evaluate", "--policy", str(EXAMPLE_POLICY), "--json")
    listed = revbridge("alerts", "list")

    states = {o["name"]: o for o in map(json.loads, first.splitlines())}
    assert states["finance-backlog"]["state"] == "firing"
    assert states["finance-backlog"]["sent"] == "firing"
    assert states["sync-lag"]["state"] == "ok"
    assert [body["revbridge"]["alert"] for body in received] == ["finance-backlog"]
    assert "finance-backlog" in listed
    assert "firing" in listed
