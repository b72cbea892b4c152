"""Fixtures for policy-file tests: the shipped example, and variants of it written to disk.

A variant is the example text with a few exact replacements, so the line and column of
each mistake can be computed from the text rather than written by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from revbridge.config.example import EXAMPLE_POLICY

EXAMPLE = EXAMPLE_POLICY


@dataclass(frozen=True)
class PolicyFile:
    """A policy file on disk and its text."""

    path: Path
    text: str

    def at(self, needle: str, after: str = "") -> str:
        """``FILE:LINE:COL`` of the first ``needle`` following ``after`` (1-based)."""
        start = self.text.index(after) if after else 0
        offset = self.text.index(needle, start)
        line = self.text.count("\n", 0, offset) + 1
        col = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return f"{self.path}:{line}:{col}"


MakeVariant = Callable[..., PolicyFile]


@pytest.fixture
def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture
def example_file() -> PolicyFile:
    return PolicyFile(EXAMPLE, EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def variant(tmp_path: Path, example_text: str) -> MakeVariant:
    """``variant((old, new), ..., name=...)``: the example with each ``old`` replaced once."""

    def make(*replacements: tuple[str, str], name: str = "revbridge.yaml") -> PolicyFile:
        text = example_text
        for old, new in replacements:
            assert text.count(old) == 1, f"not exactly one {old!r} in the example"
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return PolicyFile(path, text)

    return make


@pytest.fixture
def policy_file(tmp_path: Path) -> Callable[[str], PolicyFile]:
    """A policy file with exactly the given text."""

    def make(text: str) -> PolicyFile:
        path = tmp_path / "policy.yaml"
        path.write_text(text, encoding="utf-8")
        return PolicyFile(path, text)

    return make
