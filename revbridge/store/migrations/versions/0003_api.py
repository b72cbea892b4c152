"""api keys and idempotency keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rb_api_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("prefix", sa.String(length=48), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rb_api_keys")),
    )
    op.create_table(
        "rb_idempotency",
        sa.Column("api_key_id", sa.String(length=32), nullable=False),
        sa.Column("idem_key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("api_key_id", "idem_key", name=op.f("pk_rb_idempotency")),
    )
    with op.batch_alter_table("rb_idempotency", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rb_idempotency_created_at"), ["created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rb_idempotency", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rb_idempotency_created_at"))

    op.drop_table("rb_idempotency")
    op.drop_table("rb_api_keys")
