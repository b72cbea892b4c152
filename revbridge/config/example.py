"""The example policy revbridge ships: Acme Cloud's estate on the local sandboxes.

The file is package data (``revbridge/examples/revbridge.yaml``), read through
:mod:`importlib.resources`, so ``revbridge demo`` and ``revbridge config validate`` find it
in an installed wheel exactly as in a checkout. Copy it to start a policy of your own.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _packaged(name: str) -> Path:
    resource = files("revbridge").joinpath("examples", name)
    if not isinstance(resource, Path):  # revbridge is always installed as files, never zipped
        raise RuntimeError(f"the example policy {resource} is not a file on disk")
    return resource


#: The example policy file inside the installed package.
EXAMPLE_POLICY: Path = _packaged("revbridge.yaml")
