"""Fixtures of the acceptance suite; the harness itself is in ``acceptance_stack.py``."""

from acceptance_stack import database_url, estate, stack

from revbridge.testing.nats import nats_server

__all__ = ["database_url", "estate", "nats_server", "stack"]
