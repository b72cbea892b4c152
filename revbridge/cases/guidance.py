"""What a case tells its owner: what failed, what to do, and the actions safe now."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from revbridge.cases.model import CaseAction

__all__ = ["Failure", "guidance"]


class Failure(Protocol):
    """What guidance needs of a failure: its message and the rules' findings."""

    @property
    def message(self) -> str: ...

    @property
    def findings(self) -> list[dict[str, str]]: ...


def guidance(failure: Failure, actions: Sequence[CaseAction], owner_text: str | None) -> str:
    """What the owner reads: what failed, what to do, and the actions safe now. The policy's
    general text for the owner is given only when no rule said precisely what to fix, so a
    case never carries two instructions that disagree."""
    lines = [f"What failed: {failure.message}"]
    for finding in failure.findings:
        lines.append(f"• {finding['message']} — {finding['guidance']}")
    if owner_text and not failure.findings:
        lines.append(owner_text)
    lines.append("Safe actions now:")
    lines.extend(f"• {action}: {CaseAction(action).guidance}" for action in actions)
    return "\n".join(lines)
