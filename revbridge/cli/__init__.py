"""The ``revbridge`` command line: parse arguments, call library functions, print.

Errors are one clear line on stderr and a non-zero exit (an invalid policy file's problems
are listed above it, as FILE:LINE:COL: message); ``--debug`` shows tracebacks. Help is
click's plain layout: a flag shows no value type, an option its type.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.text import Text

from revbridge import __version__
from revbridge.cli import (
    alerts,
    config,
    db,
    keys,
    ops,
    sandbox_distribution,
    schema,
    serve,
    stream,
    users,
    worker,
)
from revbridge.errors import ConfigError, RevbridgeError

app = typer.Typer(
    name="revbridge",
    help="Quote-to-cash integration backbone: CRM, ERP, billing, tax and payments in step.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,  # typer's rich help shows "<bool>" beside every flag
)
app.add_typer(db.app, name="db")
app.add_typer(config.app, name="config")
app.add_typer(schema.app, name="schema")
app.add_typer(db.audit_app, name="audit")
if sandbox_distribution.installed():
    from revbridge.cli import bench, chaos, demo, sandbox

    app.add_typer(sandbox.app, name="sandbox")
    app.command("demo")(demo.demo)
    app.command("bench")(bench.bench)
    app.command("chaos")(chaos.chaos)
else:
    sandbox_distribution.register_missing(app)
app.command("worker")(worker.worker)
app.add_typer(ops.exceptions_app, name="exceptions")
app.command("replay")(ops.replay)
app.command("trace")(ops.trace)
app.command("workers")(ops.workers_list)
app.command("serve")(serve.serve)
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")
app.add_typer(alerts.app, name="alerts")
app.add_typer(stream.app, name="stream")

_state = {"debug": False}
err = Console(stderr=True, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        print(f"revbridge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    _state["debug"] = debug


def main() -> None:
    """Console-script entry point."""
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:
        if _state["debug"] or "--debug" in sys.argv:
            raise
        if isinstance(exc, ConfigError):
            for problem in exc.problems:
                if problem != str(exc):
                    err.print(problem, markup=False, highlight=False)
        err.print(Text.assemble(("error: ", "red"), _one_line(exc)), highlight=False)
        sys.exit(2 if not isinstance(exc, RevbridgeError) else 1)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, typer.TyperException):  # usage errors and the commands' own sentences
        return exc.format_message()
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
