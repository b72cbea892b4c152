"""when a deal's first invoice was issued

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rb_deals") as batch:
        batch.add_column(sa.Column("invoiced_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rb_deals") as batch:
        batch.drop_column("invoiced_at")
