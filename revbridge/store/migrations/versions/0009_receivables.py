"""invoices and payments carried to the ERP; the booked plan of a deal

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("rb_deals") as batch:
        batch.add_column(sa.Column("plan", sa.JSON(), nullable=True))
    op.create_table(
        "rb_invoices",
        sa.Column("invoice_key", sa.String(200), nullable=False),
        sa.Column("invoice_id", sa.String(100), nullable=False),
        sa.Column("deal_key", sa.String(200), nullable=False),
        sa.Column("correlation_id", sa.String(100), nullable=False),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("legal_entity", sa.String(40), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", sa.String(40), nullable=False),
        sa.Column("amount_paid", sa.String(40), nullable=False),
        sa.Column("issued_at", _AT, nullable=True),
        sa.Column("due_date", sa.String(10), nullable=True),
        sa.Column("paid_at", _AT, nullable=True),
        sa.Column("canonical", sa.JSON(), nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("invoice_key", name="pk_rb_invoices"),
    )
    op.create_index("ix_rb_invoices_invoice_id", "rb_invoices", ["invoice_id"])
    op.create_index("ix_rb_invoices_deal_key", "rb_invoices", ["deal_key"])
    op.create_index("ix_rb_invoices_customer_id", "rb_invoices", ["customer_id"])
    op.create_table(
        "rb_payments",
        sa.Column("payment_key", sa.String(200), nullable=False),
        sa.Column("invoice_key", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("amount", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("received_at", _AT, nullable=True),
        sa.Column("canonical", sa.JSON(), nullable=False),
        sa.Column("recorded_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("payment_key", name="pk_rb_payments"),
    )
    op.create_index(
        "ix_rb_payments_customer_id_received_at", "rb_payments", ["customer_id", "received_at"]
    )
    op.create_index("ix_rb_payments_invoice_key", "rb_payments", ["invoice_key"])


def downgrade() -> None:
    op.drop_table("rb_payments")
    op.drop_table("rb_invoices")
    with op.batch_alter_table("rb_deals") as batch:
        batch.drop_column("plan")
