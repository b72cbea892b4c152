"""The import-layer contracts hold, and they do fail when a flow imports a connector."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_project(tmp_path: Path) -> Path:
    tree = tmp_path / "project"
    shutil.copytree(
        ROOT / "revbridge", tree / "revbridge", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(
        ROOT / "sandboxes" / "revbridge_sandboxes",
        tree / "revbridge_sandboxes",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_contracts_hold_on_the_package(tmp_path: Path) -> None:
    result = _lint(_copy_project(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


def test_a_flow_importing_a_connector_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy_project(tmp_path)
    (tree / "revbridge" / "connectors" / "leaky.py").write_text('"""A connector."""\n')
    (tree / "revbridge" / "flows" / "shortcut.py").write_text(
        '"""A flow that talks to a connector directly."""\n\nimport revbridge.connectors.leaky\n'
    )
    result = _lint(tree)
    assert result.returncode != 0
    assert "Flows never import a connector" in result.stdout
    assert "revbridge.flows.shortcut -> revbridge.connectors.leaky" in result.stdout


def test_a_console_page_reading_a_store_table_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy_project(tmp_path)
    (tree / "revbridge" / "console" / "shortcut.py").write_text(
        '"""A page that reads a table itself."""\n\nimport revbridge.store.tables\n'
    )
    result = _lint(tree)
    assert result.returncode != 0
    assert "The faces reach data only through the application layer" in result.stdout
    assert "revbridge.console.shortcut -> revbridge.store.tables" in result.stdout


def test_a_cli_command_importing_sqlalchemy_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy_project(tmp_path)
    (tree / "revbridge" / "cli" / "shortcut.py").write_text(
        '"""A command with its own query."""\n\nfrom sqlalchemy import select\n'
    )
    result = _lint(tree)
    assert result.returncode != 0
    assert "The faces reach data only through the application layer" in result.stdout
    assert "revbridge.cli.shortcut -> sqlalchemy" in result.stdout


def test_the_case_model_importing_the_store_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy_project(tmp_path)
    model = tree / "revbridge" / "cases" / "model.py"
    model.write_text(model.read_text() + "\nimport revbridge.store.cases  # a case saving itself\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "The case model imports nothing but the canonical model" in result.stdout
    assert "revbridge.cases.model -> revbridge.store.cases" in result.stdout


def test_a_sandbox_importing_revbridge_breaks_the_contract(tmp_path: Path) -> None:
    tree = _copy_project(tmp_path)
    (tree / "revbridge_sandboxes" / "shortcut.py").write_text(
        '"""An emulator that borrows the product\'s model."""\n\nimport revbridge.canonical\n'
    )
    result = _lint(tree)
    assert result.returncode != 0
    assert "The sandboxes distribution imports nothing of revbridge" in result.stdout
    assert "revbridge_sandboxes.shortcut -> revbridge.canonical" in result.stdout
