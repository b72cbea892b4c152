"""Owners and case actions are written once, in ``revbridge.cases``: anywhere else in the
package they are the enums, never a string typed again (a typo would be a silent new
owner or an action nobody handles)."""

from __future__ import annotations

import ast
from pathlib import Path

from revbridge.cases.model import CaseAction, Owner

PACKAGE = Path(__file__).resolve().parents[3] / "revbridge"
WORDS = {str(word) for word in (*Owner, *CaseAction)}

#: The same letters with another meaning, by file: not an owner or a case action.
OTHER_MEANINGS = {
    # the policy's per-system retry settings
    ("connectors/registry.py", "retry"),
    # the NATS consumer's verdict on a message: nak it so it comes back
    ("ingress/nats_consumer.py", "retry"),
}


def _typed_again() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        if where.startswith("cases/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and node.value in WORDS
                and (where, node.value) not in OTHER_MEANINGS
            ):
                found.append(f"revbridge/{where}:{node.lineno}: {node.value!r}")
    return found


def test_owners_and_case_actions_are_typed_only_in_cases() -> None:
    assert _typed_again() == []
