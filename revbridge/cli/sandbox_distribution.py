"""The four commands that drive the local sandboxes, and what they say without them.

``revbridge demo``, ``sandbox``, ``bench`` and ``chaos`` start, seed and fault the vendor
emulators of the ``revbridge-sandboxes`` distribution; the product installs and runs
without it. When it is missing each of the four is registered as a stand-in that prints
one sentence and exits 2, whatever its arguments (``--help`` included).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec

import typer

DISTRIBUTION = "revbridge-sandboxes"
COMMANDS = ("demo", "sandbox", "bench", "chaos")


def installed() -> bool:
    """Whether the sandboxes' package can be imported."""
    return find_spec("revbridge_sandboxes") is not None


def missing(command: str) -> Callable[[], None]:
    """A stand-in for ``revbridge COMMAND`` that says what to install."""

    def stand_in() -> None:
        typer.echo(
            f"revbridge {command} needs the {DISTRIBUTION} package: pip install {DISTRIBUTION}",
            err=True,
        )
        raise typer.Exit(2)

    stand_in.__doc__ = f"Needs the {DISTRIBUTION} package (pip install {DISTRIBUTION})."
    return stand_in


def register_missing(app: typer.Typer) -> None:
    """Register the stand-ins, accepting any arguments and options."""
    for command in COMMANDS:
        app.command(
            command,
            add_help_option=False,
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        )(missing(command))
