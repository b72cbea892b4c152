"""The product wheel installs and runs on its own; with the sandboxes wheel beside it the
demo runs from an empty directory outside the checkout.

Both wheels are built from a copy of the source tree (so no build output lands in the
checkout), installed into fresh virtual environments with the versions of
``requirements.lock``, and run as an operator would run them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = str(Path(sys.executable).with_name("uv"))
NEEDS_SANDBOXES = (
    "revbridge {} needs the revbridge-sandboxes package: pip install revbridge-sandboxes"
)
SOURCES = ("revbridge", "sandboxes", "pyproject.toml", "README.md", "LICENSE")


@dataclass(frozen=True)
class Wheels:
    product: Path
    sandboxes: Path


def _run(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["REVBRIDGE_LOG_LEVEL"] = "WARNING"
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _ok(*args: str, cwd: Path, timeout: float = 180) -> str:
    result = _run(*args, cwd=cwd, timeout=timeout)
    assert result.returncode == 0, f"{args}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Wheels:
    tree = tmp_path_factory.mktemp("source")
    skip = shutil.ignore_patterns("__pycache__", "build", "*.egg-info")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=skip)
        else:
            shutil.copy(source, tree / name)
    dist = tmp_path_factory.mktemp("dist")
    for project in (tree, tree / "sandboxes"):
        _ok(UV, "build", "--wheel", "--quiet", "--out-dir", str(dist), str(project), cwd=tree)
    (product,) = dist.glob("revbridge-*.whl")
    (sandboxes,) = dist.glob("revbridge_sandboxes-*.whl")
    return Wheels(product, sandboxes)


def _venv(path: Path, *wheels: Path) -> Path:
    _ok(UV, "venv", "--quiet", "--python", sys.executable, str(path), cwd=path.parent)
    python = str(path / "bin" / "python")
    constraints = str(ROOT / "requirements.lock")
    _ok(UV, "pip", "install", "--quiet", "--python", python, *map(str, wheels), "-c", constraints,
        cwd=path.parent)  # fmt: skip
    return path / "bin"


@pytest.fixture(scope="module")
def product_only(wheels: Wheels, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _venv(tmp_path_factory.mktemp("product") / "venv", wheels.product)


def test_the_product_wheel_alone_shows_help_validates_the_example_and_knows_the_worker(
    product_only: Path, tmp_path: Path
) -> None:
    revbridge = str(product_only / "revbridge")
    assert "worker" in _ok(revbridge, "--help", cwd=tmp_path)
    example = tmp_path / "revbridge.yaml"
    example.write_text(_ok(revbridge, "config", "example", cwd=tmp_path))
    assert "valid" in _ok(revbridge, "config", "validate", str(example), cwd=tmp_path)
    assert "Run quote-to-cash flows" in _ok(revbridge, "worker", "--help", cwd=tmp_path)


@pytest.mark.parametrize("args", [("demo", "--help"), ("sandbox", "run", "--only", "stripe")])
def test_without_the_sandboxes_a_sandbox_command_says_what_to_install(
    product_only: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = _run(str(product_only / "revbridge"), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == NEEDS_SANDBOXES.format(args[0])
    assert result.stdout == ""


def test_with_both_wheels_the_demo_books_every_deal_from_an_empty_directory(
    wheels: Wheels, tmp_path: Path
) -> None:
    bin_dir = _venv(tmp_path / "venv", wheels.product, wheels.sandboxes)
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    summary = tmp_path / "summary.json"
    _ok(
        str(bin_dir / "revbridge"),
        *("demo", "--deals", "20", "--timeout", "120", "--json", str(summary)),
        cwd=empty,
        timeout=240,
    )
    figures = json.loads(summary.read_text())
    assert figures["deals"] == 20
    assert figures["activated"] + figures["deals_held"] == 20
    assert (empty / "demo" / "revbridge.yaml").is_file()
