"""Every step of quote-to-cash and the receivables is named once, with its system's role
and its phase, so a new step cannot leave the failure classes or the console's timeline
behind."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import revbridge.flows
from revbridge.config.systems import ROLES
from revbridge.flows import steps
from revbridge.flows.outcomes import role_of
from revbridge.flows.step_names import PHASES, Phase, Step

FLOWS = Path(steps.__file__).resolve().parent


def test_every_step_calls_a_system_of_a_known_role_except_the_rules() -> None:
    assert {step for step in Step if step.role is None} == {
        Step.VALIDATE,
        Step.CHECK_INVOICE,
        Step.COLLECT_PAYMENT,
    }
    assert all(step.role in ROLES for step in Step if step.role is not None)


def test_a_step_that_calls_no_system_fails_in_the_integration_family() -> None:
    assert role_of(Step.VALIDATE) == "integration"
    assert role_of(Step.SUBMIT_SALES_ORDER) == "erp"


def test_every_step_is_in_exactly_one_phase_of_the_console() -> None:
    shown = [name for _, _, names in PHASES for name in names]
    assert sorted(shown) == sorted(Step)
    assert [(label, what) for label, what, _ in PHASES] == [p.value for p in Phase]


def test_every_step_of_the_workflow_is_a_checkpointed_step_function() -> None:
    """The timeline's name of a step is the name DBOS records for its function."""
    modules = [
        importlib.import_module(f"revbridge.flows.{info.name}")
        for info in pkgutil.iter_modules(revbridge.flows.__path__)
    ]
    missing = [s for s in Step if not any(callable(getattr(m, s, None)) for m in modules)]
    assert missing == []


def test_the_workflow_names_its_steps_only_through_step() -> None:
    typed = []
    for module in (
        "steps.py",
        "quote_to_cash.py",
        "casework.py",
        "outcomes.py",
        "receivables.py",
        "receivable_steps.py",
    ):
        tree = ast.parse((FLOWS / module).read_text(encoding="utf-8"))
        typed += [
            f"{module}:{node.lineno}: {node.value!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in set(Step)
        ]
    assert typed == []
