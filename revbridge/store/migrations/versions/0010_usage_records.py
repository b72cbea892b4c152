"""usage records received for the billing meter

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rb_usage_records",
        sa.Column("record_id", sa.String(100), nullable=False),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("sku", sa.String(100), nullable=False),
        sa.Column("quantity", sa.String(40), nullable=False),
        sa.Column("occurred_at", _AT, nullable=False),
        sa.Column("source", sa.String(100), nullable=True),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reported_at", _AT, nullable=True),
        sa.Column("billing_ref", sa.String(255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("record_id", name="pk_rb_usage_records"),
    )
    op.create_index(
        "ix_rb_usage_records_customer_id_occurred_at",
        "rb_usage_records",
        ["customer_id", "occurred_at"],
    )
    op.create_index("ix_rb_usage_records_state", "rb_usage_records", ["state"])


def downgrade() -> None:
    op.drop_table("rb_usage_records")
