"""revbridge's own tables and their repositories (SQLAlchemy 2, SQLite or PostgreSQL).

One code path for both databases: the inbox (dedup of inbound events), bindings
(canonical id ↔ external ref per system), exception cases, the hash-chained audit log,
the event log and config versions. Schema changes go through Alembic
(``revbridge db upgrade``).
"""
