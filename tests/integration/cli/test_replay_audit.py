"""``revbridge replay`` is audited as the API's replay is: one ``deal.replay`` row with the
same subject, before and after, whichever face asked (real SQLite, the real DBOS replay)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from revbridge.api.main import create_app
from revbridge.cli import main
from revbridge.config.settings import Settings
from revbridge.store import api_keys, audit, deals
from revbridge.store.audit import AuditEntry
from revbridge.store.db import create_store_engine
from revbridge.testing.servers import serve

DEAL = "salesforce:006REPLAYED"


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["revbridge", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    code = exited.value.code
    return code if isinstance(code, int) else int(code is not None)


def _replays(url: str) -> list[AuditEntry]:
    engine = create_store_engine(url)
    try:
        return [e for e in audit.entries(engine) if e.action == "deal.replay"]
    finally:
        engine.dispose()


def test_revbridge_replay_writes_the_audit_row_the_api_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'revbridge.db'}"
    monkeypatch.setenv("REVBRIDGE_DATABASE_URL", url)
    assert _cli(monkeypatch, "db", "upgrade") == 0
    engine = create_store_engine(url)
    with engine.begin() as conn:  # stored before any worker ran it: the replay is refused
        deals.register(conn, DEAL, f"quote_to_cash:{DEAL}", "corr-replayed")
        _key, token = api_keys.create(conn, "replayer", "integration_support")

    assert _cli(monkeypatch, "replay", DEAL) != 0
    [by_cli] = _replays(url)

    api = create_app(Settings(database_url=url), engine)  # the real replay, as serve builds
    with serve(api) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        answer = client.post(
            "/v1/replays", json={"deal": DEAL}, headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 200, answer.text
    engine.dispose()
    by_cli_again, by_api = _replays(url)

    assert by_cli_again == by_cli
    assert (
        (by_api.action, by_api.subject)
        == (by_cli.action, by_cli.subject)
        == (
            "deal.replay",
            DEAL,
        )
    )
    assert by_api.before == by_cli.before == {"workflow_id": f"quote_to_cash:{DEAL}",
                                              "status": "running"}  # fmt: skip
    assert by_api.after == by_cli.after
    assert "has not started" in by_cli.after["error"]
    assert by_api.correlation_id == by_cli.correlation_id == "corr-replayed"
