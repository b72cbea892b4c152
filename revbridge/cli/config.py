"""``revbridge config validate|diff|example``: check a policy file, compare two versions,
print the example policy revbridge ships."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from revbridge.config.example import EXAMPLE_POLICY
from revbridge.config.load import diff_files, load_policy, validate_file
from revbridge.config.policy import Policy

app = typer.Typer(help="The policy file (revbridge.yaml).", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)


@app.command("validate")
def validate(file: Path = typer.Argument(..., help="Policy file to check.")) -> None:
    """Exit 0 with a summary, or 1 listing every problem as FILE:LINE:COL: message."""
    report = validate_file(file)
    if report.problems:
        for problem in report.problems:
            out.print(str(problem), markup=False)
        out.print(f"{len(report.problems)} problem(s) in {file}", markup=False)
        raise typer.Exit(1)
    out.print(f"{file}: valid — {report.summary()}", markup=False)


@app.command("example")
def example() -> None:
    """Print the example policy (Acme Cloud on the local sandboxes) to start your own."""
    sys.stdout.write(EXAMPLE_POLICY.read_text(encoding="utf-8"))


@app.command("diff")
def diff(
    old: Path = typer.Argument(..., help="The policy in force."),
    new: Path = typer.Argument(..., help="The proposed policy."),
) -> None:
    """Print what changes in business terms (routing, mappings, ownership, policies)."""
    changes = diff_files(old, new)
    if not changes:
        out.print("no business changes")
        return
    for line in changes:
        out.print(line, markup=False)


def require_policy(path: Path) -> Policy:
    """The valid policy at ``path`` for a command that needs one: a missing file is one
    sentence; an invalid one raises :class:`~revbridge.errors.ConfigError` with every problem
    as FILE:LINE:COL: message (printed by the command line's error handler)."""
    if not path.is_file():
        raise typer.TyperException(
            f"no policy file {path} (pass --policy FILE; the example is {EXAMPLE_POLICY})"
        )
    return load_policy(path)
