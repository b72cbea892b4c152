"""Canonical events out: the event log (embedded SQL table or NATS JetStream)."""
