"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 21:39:05.521160
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rb_audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_rb_audit_log")),
    )
    op.create_table(
        "rb_bindings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity", sa.String(length=50), nullable=False),
        sa.Column("canonical_id", sa.String(length=200), nullable=False),
        sa.Column("system", sa.String(length=50), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rb_bindings")),
        sa.UniqueConstraint(
            "entity",
            "canonical_id",
            "system",
            name=op.f("uq_rb_bindings_entity_canonical_id_system"),
        ),
        sa.UniqueConstraint(
            "system", "entity", "external_id", name=op.f("uq_rb_bindings_system_entity_external_id")
        ),
    )
    op.create_table(
        "rb_config_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("policy_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("loaded_by", sa.String(length=200), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rb_config_versions")),
    )
    op.create_table(
        "rb_counters",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rb_counters")),
    )
    op.create_table(
        "rb_event_log",
        sa.Column("log_offset", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("log_offset", name=op.f("pk_rb_event_log")),
        sa.UniqueConstraint("event_id", name=op.f("uq_rb_event_log_event_id")),
    )
    op.create_table(
        "rb_exception_cases",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("deal_key", sa.String(length=200), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("owner", sa.String(length=40), nullable=False),
        sa.Column("failure_class", sa.String(length=80), nullable=False),
        sa.Column("rule", sa.String(length=120), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("guidance", sa.Text(), server_default="", nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("occurrences", sa.Integer(), server_default="1", nullable=False),
        sa.Column("assignee", sa.String(length=120), nullable=True),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_rb_exception_cases")),
    )
    with op.batch_alter_table("rb_exception_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rb_exception_cases_owner_state"), ["owner", "state"], unique=False
        )
        batch_op.create_index(
            "uq_rb_exception_cases_open_deal",
            ["deal_key"],
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )

    op.create_table(
        "rb_inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("business_key", sa.String(length=200), nullable=True),
        sa.Column("business_version", sa.String(length=200), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rb_inbox")),
        sa.UniqueConstraint(
            "business_key",
            "business_version",
            name=op.f("uq_rb_inbox_business_key_business_version"),
        ),
        sa.UniqueConstraint("source", "event_id", name=op.f("uq_rb_inbox_source_event_id")),
    )
    with op.batch_alter_table("rb_inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rb_inbox_received_at"), ["received_at"], unique=False)

    counters = sa.table("rb_counters", sa.column("name"), sa.column("value"))
    op.bulk_insert(counters, [{"name": "audit", "value": 0}, {"name": "event_log", "value": 0}])


def downgrade() -> None:
    with op.batch_alter_table("rb_inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rb_inbox_received_at"))

    op.drop_table("rb_inbox")
    with op.batch_alter_table("rb_exception_cases", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_rb_exception_cases_open_deal",
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_rb_exception_cases_owner_state"))

    op.drop_table("rb_exception_cases")
    op.drop_table("rb_event_log")
    op.drop_table("rb_counters")
    op.drop_table("rb_config_versions")
    op.drop_table("rb_bindings")
    op.drop_table("rb_audit_log")
