"""entitlement activations: one row per deal and provisioning endpoint

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rb_entitlements",
        sa.Column("deal_key", sa.String(200), nullable=False),
        sa.Column("endpoint", sa.String(100), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("webhook_id", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("deal_key", "endpoint", name="pk_rb_entitlements"),
    )


def downgrade() -> None:
    op.drop_table("rb_entitlements")
