"""The ``revbridge`` command as a user runs it: real processes, real databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from revbridge import __version__
from revbridge.config.example import EXAMPLE_POLICY

ROOT = Path(__file__).resolve().parents[3]
REVBRIDGE = str(Path(sys.executable).with_name("revbridge"))
EXAMPLE = EXAMPLE_POLICY


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REVBRIDGE, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_version_and_help(tmp_path: Path) -> None:
    assert run("--version", cwd=tmp_path).stdout.strip() == f"revbridge {__version__}"
    help_text = run("--help", cwd=tmp_path).stdout
    for group in ("config", "db", "audit", "schema", "sandbox", "demo"):
        assert group in help_text


def test_example_policy_validates(tmp_path: Path) -> None:
    result = run("config", "validate", str(EXAMPLE), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout
    assert "3 legal entities" in result.stdout


def test_broken_policy_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace("erp_item: SVC-TRAINING", "erp_item: ''", 1)
    text = text.replace("client_secret: {env: SF_CLIENT_SECRET}", "client_secret: hunter2-xyz")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    result = run("config", "validate", str(bad), cwd=tmp_path)
    assert result.returncode == 1
    problems = [line for line in result.stdout.splitlines() if line.startswith(str(bad))]
    assert len(problems) >= 2
    assert all(line.count(":") >= 3 for line in problems)
    assert "hunter2-xyz" not in result.stdout + result.stderr


def test_diff_speaks_business(tmp_path: Path) -> None:
    new = tmp_path / "new.yaml"
    new.write_text(EXAMPLE.read_text().replace("erp_item: SVC-TRAINING", "erp_item: SVC-TRAIN-2"))
    result = run("config", "diff", str(EXAMPLE), str(new), cwd=tmp_path)
    assert result.returncode == 0
    assert "SVC-TRAIN-2" in result.stdout


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    result = run("config", "validate", str(tmp_path / "missing.yaml"), cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    result = run("exceptions", "show", "case_nope", cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


def test_schema_export_writes_json_schemas(tmp_path: Path) -> None:
    result = run("schema", "export", "schemas", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    money = json.loads((tmp_path / "schemas" / "Money.schema.json").read_text())
    assert "currency" in money["properties"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_db_upgrade_and_audit_verify(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = str(request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url"))
    env = {"REVBRIDGE_DATABASE_URL": url}
    upgraded = run("db", "upgrade", cwd=tmp_path, env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "revision" in upgraded.stdout
    assert "password" not in upgraded.stdout
    ok = run("audit", "verify", cwd=tmp_path, env=env)
    assert ok.returncode == 0
    assert "valid" in ok.stdout


def test_demo_books_deals_and_reports_every_defect_as_an_owned_exception(tmp_path: Path) -> None:
    result = run(
        "demo",
        "--deals",
        "24",
        "--defects",
        "0.25",
        "--json",
        "summary.json",
        cwd=tmp_path,
        env={"COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["deals"] == 24
    assert summary["activated"] + summary["deals_held"] == 24
    assert summary["deals_held"] == sum(summary["defects_seeded"].values()) == 6
    assert set(summary["exceptions_by_owner"]) <= {"sales_ops", "finance_ops"}
    assert "Traceback" not in result.stderr

    clean = run("demo", "--deals", "8", "--defects", "0", "--json", "clean.json", cwd=tmp_path)
    assert clean.returncode == 0, clean.stderr[-2000:]
    summary = json.loads((tmp_path / "clean.json").read_text())
    assert (summary["activated"], summary["deals_held"]) == (8, 0)


def test_sandbox_run_and_seed_create_a_book_of_business(tmp_path: Path) -> None:
    import httpx

    from revbridge.testing.estate import SANDBOX_ENV
    from revbridge.testing.servers import free_port

    offset = free_port() - 8701
    server = subprocess.Popen(
        [REVBRIDGE, "sandbox", "run", "--port-offset", str(offset)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{8701 + offset}"
        deadline = time.monotonic() + 120  # a start-up on a loaded machine, not a speed
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/_sandbox/faults", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        seeded = run(
            "sandbox",
            "seed",
            "--deals",
            "6",
            "--defects",
            "0.5",
            "--port-offset",
            str(offset),
            "--policy",
            str(EXAMPLE),
            cwd=tmp_path,
        )
        assert seeded.returncode == 0, seeded.stdout + seeded.stderr
        assert "6 opportunities" in seeded.stdout
        token = httpx.post(
            f"{base}/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": SANDBOX_ENV["SF_CLIENT_ID"],
                "client_secret": SANDBOX_ENV["SF_CLIENT_SECRET"],
            },
        ).json()["access_token"]
        count = httpx.get(
            f"{base}/services/data/v59.0/query",
            params={"q": "SELECT COUNT() FROM Opportunity"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["totalSize"]
        assert count == 6
    finally:
        server.terminate()
        server.wait(10)


def test_audit_verify_names_the_tampered_row_and_exits_1(tmp_path: Path, sqlite_url: str) -> None:
    from sqlalchemy import text

    from revbridge.store import audit
    from revbridge.store.db import create_store_engine

    env = {"REVBRIDGE_DATABASE_URL": sqlite_url}
    assert run("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    engine = create_store_engine(sqlite_url)
    for n in range(4):
        with engine.begin() as conn:
            audit.append(conn, actor="ops", action="case.retry", subject=f"case:{n}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE rb_audit_log SET actor = 'mallory' WHERE seq = 2"))
    engine.dispose()
    result = run("audit", "verify", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "row 2" in result.stdout
