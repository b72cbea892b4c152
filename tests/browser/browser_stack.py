"""What the browser tests share: the running console stack (see ``conftest.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from acceptance_stack import Stack

from revbridge.cases.model import ExceptionCase


@dataclass
class Console:
    """The running stack and its console: its URL and the deals it was given."""

    stack: Stack
    url: str
    clean: list[str]
    defects: list[str]

    def case_for(self, opportunity: str) -> ExceptionCase:
        return self.stack.case_for(opportunity)
