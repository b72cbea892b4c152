"""The HTTP API v1: stable business capabilities over revbridge's store and flows.

``main.create_app`` builds the FastAPI application from injected dependencies; ``gate``
bounds bodies, authenticates keys, rate-limits and applies idempotency keys before any
route runs; ``auth`` maps roles to scopes; ``problems`` turns every error into RFC 9457
``application/problem+json``; ``routes/`` holds the capabilities in business words.
"""
