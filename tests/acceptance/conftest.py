"""Fixtures of the acceptance suite; the harness itself is in ``acceptance_stack.py``."""

from acceptance_stack import database_url, estate, stack

__all__ = ["database_url", "estate", "stack"]
