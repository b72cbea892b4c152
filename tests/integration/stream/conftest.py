"""Fixtures of the stream tests: a current NATS server with JetStream per test."""

from revbridge.testing.nats import nats_server

__all__ = ["nats_server"]
