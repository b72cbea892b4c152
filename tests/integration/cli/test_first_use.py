"""What a new user meets first: a mistyped database URL, a missing policy, a busy port, an
unknown deal or owner. Each is one sentence on stderr and a non-zero exit, never a traceback
nor a password; read commands never create a database and name the one they read."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from revbridge.cases.model import Owner
from revbridge.cli import main
from revbridge.config.example import EXAMPLE_POLICY
from revbridge.observability.logging import CAPTURED_LOGGERS
from revbridge.store import deals
from revbridge.store.db import create_store_engine
from revbridge.testing.servers import free_port

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = EXAMPLE_POLICY
REVBRIDGE = str(Path(sys.executable).with_name("revbridge"))
PROBLEM = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): .+$")


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


Revbridge = Callable[..., Outcome]


@pytest.fixture
def revbridge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Revbridge]:
    """``revbridge(*args, env={...})`` in ``tmp_path`` through the console script's entry
    point (``revbridge.cli.main``), in this process: its stdout, stderr and exit code."""
    monkeypatch.chdir(tmp_path)
    for name in ("REVBRIDGE_DATABASE_URL", "REVBRIDGE_POLICY_FILE"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: str, env: dict[str, str] | None = None) -> Outcome:
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(sys, "argv", ["revbridge", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        code = exited.value.code
        exit_code = code if isinstance(code, int) else int(code is not None)
        return Outcome(exit_code, *capsys.readouterr())

    loggers = [logging.getLogger(), *map(logging.getLogger, CAPTURED_LOGGERS)]
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in loggers]
    try:
        yield invoke
    finally:  # `worker` and `serve` install revbridge's log handler on the captured stderr
        for logger, handlers, level, propagate in saved:
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate


def one_sentence(result: Outcome) -> str:
    """The error line: alone on stderr, no traceback."""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    assert lines[0].startswith("error: ")
    return lines[0]


def unreachable_postgres(password: str) -> str:
    """A PostgreSQL URL with a password, on a port nothing listens on."""
    return f"postgresql://revbridge:{password}@127.0.0.1:{free_port()}/revbridge"


@pytest.fixture
def upgraded(revbridge: Revbridge, tmp_path: Path) -> dict[str, str]:
    """The environment of a migrated, empty revbridge database."""
    env = {"REVBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'store' / 'revbridge.db'}"}
    assert revbridge("db", "upgrade", env=env).code == 0
    return env


def broken_policy(tmp_path: Path) -> Path:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("erp_item: SVC-TRAINING", "erp_item: ''", 1))
    return bad


def test_help_shows_no_value_type_beside_a_flag(revbridge: Revbridge) -> None:
    for args in (["--help"], ["demo", "--help"], ["exceptions", "list", "--help"]):
        shown = revbridge(*args)
        assert shown.code == 0, shown.err
        assert "<bool>" not in shown.out
    demo = revbridge("demo", "--help").out
    assert re.search(r"--keep-running\s+Leave everything up", demo)
    assert re.search(r"--deals <int>", demo)  # an option still shows what it takes


@pytest.mark.parametrize(
    "args", [["exceptions", "list"], ["trace", "acme"], ["workers"], ["keys", "list"]]
)
def test_read_commands_never_create_a_database_and_name_the_one_they_miss(
    revbridge: Revbridge, tmp_path: Path, args: list[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'mistyped' / 'revbridge.db'}"
    result = revbridge(*args, env={"REVBRIDGE_DATABASE_URL": url})
    assert result.code != 0
    assert url in one_sentence(result)
    assert not (tmp_path / "mistyped").exists()
    assert not (tmp_path / "revbridge.db").exists()


def test_read_commands_name_the_database_they_read(
    revbridge: Revbridge, upgraded: dict[str, str]
) -> None:
    url = upgraded["REVBRIDGE_DATABASE_URL"]
    listed = revbridge("exceptions", "list", env=upgraded)
    assert listed.code == 0, listed.err
    assert f"0 case(s) in {url}" in listed.out
    fleet = revbridge("workers", env=upgraded)
    assert fleet.code == 0, fleet.err
    assert f"0 worker(s) in {url}" in fleet.out


def test_an_unreachable_database_is_named_without_its_password(revbridge: Revbridge) -> None:
    url = unreachable_postgres("pa55-w0rd-xyz")
    env = {"REVBRIDGE_DATABASE_URL": url}
    for args in (["exceptions", "list"], ["worker", "--policy", str(EXAMPLE)]):
        result = revbridge(*args, env=env)
        assert result.code != 0
        sentence = one_sentence(result)
        assert "cannot open the database postgresql://revbridge:***@127.0.0.1" in sentence
        assert "pa55-w0rd-xyz" not in result.out + result.err
        assert "OperationalError" not in sentence


def test_an_unknown_owner_is_refused_with_the_owners_there_are(
    revbridge: Revbridge, upgraded: dict[str, str]
) -> None:
    result = revbridge("exceptions", "list", "--owner", "bogus", env=upgraded)
    assert result.code != 0
    sentence = one_sentence(result)
    assert "bogus" in sentence
    assert all(owner in sentence for owner in Owner)


def test_replaying_an_unknown_deal_says_so_in_one_sentence(
    revbridge: Revbridge, upgraded: dict[str, str]
) -> None:
    result = revbridge("replay", "salesforce:006UNKNOWN", env=upgraded)
    assert result.code != 0
    sentence = one_sentence(result)
    assert "no deal salesforce:006UNKNOWN" in sentence
    assert "DBOS" not in sentence


def test_replaying_a_deal_whose_flow_never_started_says_so_in_one_sentence(
    revbridge: Revbridge, upgraded: dict[str, str]
) -> None:
    engine = create_store_engine(upgraded["REVBRIDGE_DATABASE_URL"])
    with engine.begin() as conn:  # stored (say by POST /v1/orders) before any worker ran it
        deals.register(conn, "api:cpq-1", "quote_to_cash:api:cpq-1", "corr-1")
    engine.dispose()
    result = revbridge("replay", "api:cpq-1", env=upgraded)
    assert result.code != 0
    sentence = one_sentence(result)
    assert "has not started: there is nothing to replay" in sentence
    assert "DBOS" not in sentence


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_a_missing_policy_file_stops_the_command(
    revbridge: Revbridge, upgraded: dict[str, str], command: str
) -> None:
    result = revbridge(command, "--policy", "revbridge.yaml", env=upgraded)
    assert result.code != 0
    assert "no policy file revbridge.yaml" in one_sentence(result)
    assert "revbridge API on" not in result.out


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_an_invalid_policy_file_lists_its_problems_as_config_validate_does(
    revbridge: Revbridge, upgraded: dict[str, str], tmp_path: Path, command: str
) -> None:
    bad = broken_policy(tmp_path)
    expected = revbridge("config", "validate", str(bad)).out.splitlines()[:-1]
    assert expected
    assert all(PROBLEM.match(line) for line in expected)
    result = revbridge(command, "--policy", str(bad), env=upgraded)
    assert result.code != 0
    lines = result.err.splitlines()
    assert lines[:-1] == expected
    assert lines[-1].startswith("error: ")
    assert "revbridge API on" not in result.out


def test_serve_on_a_busy_port_is_one_sentence_and_no_banner(
    revbridge: Revbridge, upgraded: dict[str, str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = revbridge("serve", "--port", str(port), "--policy", str(EXAMPLE), env=upgraded)
    assert result.code != 0
    assert f"cannot listen on 127.0.0.1:{port}" in one_sentence(result)
    assert "revbridge API on" not in result.out
    assert "Errno" not in result.err


def test_keys_list_shows_whole_ids_on_a_narrow_terminal(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "REVBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'revbridge.db'}",
        "COLUMNS": "60",
    }

    def run(*args: str) -> str:
        result = subprocess.run(
            [REVBRIDGE, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    created = run("keys", "create", "--role", "integration_support", "--name", "a scraper bot")
    key_id = re.search(r"^key (\S+) ", created, re.MULTILINE)
    assert key_id is not None
    listed = run("keys", "list")
    assert key_id.group(1) in listed
    assert "integration_support" in listed


def test_workers_lists_dbos_default_executor_only_where_it_ran_deals(
    revbridge: Revbridge, upgraded: dict[str, str], tmp_path: Path
) -> None:
    from revbridge.flows import fleet
    from revbridge.store import deals
    from revbridge.store.db import create_store_engine

    def listed(env: dict[str, str]) -> list[str]:
        result = revbridge("workers", env=env)
        assert result.code == 0, result.err
        return [line.split("│")[1].strip() for line in result.out.splitlines() if "│" in line]

    fresh = create_store_engine(upgraded["REVBRIDGE_DATABASE_URL"])
    fleet.join(fresh, "worker-1")
    fresh.dispose()
    assert listed(upgraded) == ["worker-1"]

    older = {"REVBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'older.db'}"}
    assert revbridge("db", "upgrade", env=older).code == 0
    engine = create_store_engine(older["REVBRIDGE_DATABASE_URL"])
    with engine.begin() as conn:  # booked by a version whose workers did not register
        deals.register(conn, "salesforce:006OLD", "quote_to_cash:salesforce:006OLD", "corr-1")
    fleet.join(engine, "worker-2")
    engine.dispose()
    assert listed(older) == [fleet.LEGACY_EXECUTOR, "worker-2"]
