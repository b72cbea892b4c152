"""``revbridge demo`` as a new user runs it: the progress bar alone on the terminal (the log
goes to the workdir), a summary whose p50 and p95 are the store's, the commands to go
further (which work as printed), a truthful fleet listing afterwards, and a workdir whose
other files are never deleted."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from revbridge.observability.business_metrics import percentile
from revbridge.store.db import create_store_engine
from revbridge.store.tables import deals

REVBRIDGE = str(Path(sys.executable).with_name("revbridge"))


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [REVBRIDGE, *args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def printed_command(stdout: str, command: str) -> tuple[dict[str, str], list[str]]:
    """The ``REVBRIDGE_DATABASE_URL=… revbridge …`` line the summary printed for ``command``."""
    line = next(line for line in stdout.splitlines() if f"revbridge {command}" in line)
    assignment, program, *args = shlex.split(line[line.index("REVBRIDGE_DATABASE_URL=") :])
    assert program == "revbridge"
    name, value = assignment.split("=", 1)
    return {name: value}, args


def quote_to_order_seconds(database_url: str) -> list[float]:
    engine = create_store_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(deals.c.closed_at, deals.c.accepted_at)).all()
    engine.dispose()
    return [(accepted - closed).total_seconds() for closed, accepted in rows if closed and accepted]


def deal_count(database_url: str) -> int:
    engine = create_store_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(deals)).scalar_one()
    engine.dispose()
    return int(count)


def test_demo_keeps_its_log_off_the_terminal_and_says_what_to_do_next(tmp_path: Path) -> None:
    # 8 deals, each of the 6 defects once (one is a NetSuite DUP_ENTITY step failure), 2 clean
    result = run(
        *("demo", "--deals", "8", "--defects", "0.75", "--json", "summary.json"), cwd=tmp_path
    )
    summary: dict[str, Any] = json.loads((tmp_path / "summary.json").read_text())
    url = summary["database_url"]
    assert url == f"sqlite:///{(tmp_path / 'demo' / 'revbridge.db').resolve()}"

    terminal = result.stdout + result.stderr
    assert "step failed" not in terminal
    assert '"level"' not in terminal  # no JSON log line
    log = Path(summary["log_file"])
    assert log.parent == (tmp_path / "demo").resolve()
    assert "step failed: netsuite 400 DUP_ENTITY" in log.read_text()
    assert str(log) in result.stdout

    timings = quote_to_order_seconds(url)
    assert len(timings) == summary["activated"] == 2
    assert summary["quote_to_order_p50_s"] == round(percentile(timings, 50) or 0, 3)
    assert summary["quote_to_order_p95_s"] == round(percentile(timings, 95) or 0, 3)

    assert not re.search(r"^┃\s*┃\s*┃\s*$", result.stdout, re.MULTILINE)  # no empty header
    assert "revbridge serve --policy" in result.stdout
    assert "/console/" in result.stdout
    env, args = printed_command(result.stdout, "exceptions list")
    assert env == {"REVBRIDGE_DATABASE_URL": url}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listed = run(*args, cwd=elsewhere, env=env)
    assert f"{summary['open_cases']} case(s) in {url}" in listed.stdout
    assert summary["deals_held"] == 6

    fleet = run("workers", cwd=elsewhere, env=env)
    rows = [line.split("│")[1:-1] for line in fleet.stdout.splitlines() if line.startswith("│")]
    assert len(rows) == 1, fleet.stdout  # the demo's own worker, no "local" pid 0
    worker, _host, pid, _beat, state = (cell.strip() for cell in rows[0])
    assert worker != "local"
    assert int(pid) > 0
    assert state == "stopped"


def test_demo_refuses_a_workdir_with_other_files_and_with_force_keeps_them(
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "p"
    workdir.mkdir()
    (workdir / "notes.txt").write_text("mine")
    (workdir / "revbridge.db").write_bytes(b"a previous run's database")
    refused = subprocess.run(
        [REVBRIDGE, "demo", "--deals", "2", "--workdir", str(workdir)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode != 0
    assert "notes.txt" in refused.stderr
    assert "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert sorted(p.name for p in workdir.iterdir()) == ["notes.txt", "revbridge.db"]

    run("demo", "--deals", "2", "--defects", "0", "--workdir", str(workdir), "--force",
        cwd=tmp_path)  # fmt: skip
    assert (workdir / "notes.txt").read_text() == "mine"
    assert deal_count(f"sqlite:///{workdir / 'revbridge.db'}") == 2  # the demo's file replaced
