"""deals of one account take turns

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rb_account_turns",
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("deal_key", sa.String(length=200), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account", "deal_key", name=op.f("pk_rb_account_turns")),
    )
    op.create_index(
        op.f("ix_rb_account_turns_account_state_closed_at"),
        "rb_account_turns",
        ["account", "state", "closed_at"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_rb_account_turns_account_state_closed_at"), table_name="rb_account_turns"
    )
    op.drop_table("rb_account_turns")
