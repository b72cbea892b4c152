"""order packages

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 23:19:49.260303
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rb_order_packages",
        sa.Column("order_key", sa.String(length=200), nullable=False),
        sa.Column("package", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_key", name=op.f("pk_rb_order_packages")),
    )


def downgrade() -> None:
    op.drop_table("rb_order_packages")
