"""Only the flows import DBOS (ADR 0001): the contract holds, and breaks when it should."""

from __future__ import annotations

from pathlib import Path

from test_import_contracts import _copy_project, _lint

CONTRACT = "Only the flows import DBOS"


def test_a_command_importing_dbos_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy_project(tmp_path)
    (tree / "revbridge" / "cli" / "shortcut.py").write_text(
        '"""A command with its own DBOS client."""\n\nfrom dbos import DBOSClient\n'
    )
    result = _lint(tree)
    assert result.returncode != 0
    assert f"{CONTRACT} BROKEN" in result.stdout
    assert "revbridge.cli.shortcut -> dbos" in result.stdout


def test_the_composition_root_importing_dbos_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy_project(tmp_path)
    app = tree / "revbridge" / "app.py"
    app.write_text(app.read_text() + "\nimport dbos\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "revbridge.app -> dbos" in result.stdout


def test_a_flow_module_may_use_dbos(tmp_path: Path) -> None:
    tree = _copy_project(tmp_path)
    (tree / "revbridge" / "flows" / "renewal.py").write_text(
        '"""A flow."""\n\nfrom dbos import DBOS\n'
    )
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{CONTRACT} KEPT" in result.stdout
