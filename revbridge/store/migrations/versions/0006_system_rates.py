"""fleet-wide rate budgets per system

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 00:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rb_system_rates",
        sa.Column("system", sa.String(length=64), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("system", name=op.f("pk_rb_system_rates")),
    )


def downgrade() -> None:
    op.drop_table("rb_system_rates")
