"""Logs, metrics and traces: correlation context, secret redaction, business SLA metrics."""
