"""deals and timelines

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 21:45:58.569275
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rb_deal_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("deal_key", sa.String(length=200), nullable=False),
        sa.Column("step", sa.String(length=60), nullable=False),
        sa.Column("system", sa.String(length=50), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempt", sa.Integer(), server_default="1", nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rb_deal_steps")),
    )
    with op.batch_alter_table("rb_deal_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rb_deal_steps_deal_key_id"), ["deal_key", "id"], unique=False
        )

    op.create_table(
        "rb_deals",
        sa.Column("deal_key", sa.String(length=200), nullable=False),
        sa.Column("workflow_id", sa.String(length=255), nullable=False),
        sa.Column("correlation_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("account", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.String(length=40), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("stage", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("refs", sa.JSON(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("deal_key", name=op.f("pk_rb_deals")),
    )
    with op.batch_alter_table("rb_deals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rb_deals_correlation_id"), ["correlation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rb_deals_status_updated_at"), ["status", "updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rb_deals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rb_deals_status_updated_at"))
        batch_op.drop_index(batch_op.f("ix_rb_deals_correlation_id"))

    op.drop_table("rb_deals")
    with op.batch_alter_table("rb_deal_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rb_deal_steps_deal_key_id"))

    op.drop_table("rb_deal_steps")
