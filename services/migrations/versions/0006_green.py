"""Green power purchases of enterprises and the green-electricity reward's ledger entries.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
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
        "green_purchases",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("organisation", sa.String(64), nullable=False),
        sa.Column("ref", sa.String(128), nullable=False),
        sa.Column("delivered_date", sa.String(10), nullable=False),
        sa.Column("energy_wh", sa.BigInteger, nullable=False),
        sa.Column("green_value_fen", sa.BigInteger, nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("organisation", "ref"),
    )
    op.create_index("ix_green_purchases_organisation", "green_purchases", ["organisation"])
    op.create_table(
        "green_ledger_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("ledger_runs.id"), nullable=False),
        sa.Column("organisation", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_green_ledger_entries_organisation", "green_ledger_entries", ["organisation"]
    )


def downgrade() -> None:
    op.drop_index("ix_green_ledger_entries_organisation", "green_ledger_entries")
    op.drop_table("green_ledger_entries")
    op.drop_index("ix_green_purchases_organisation", "green_purchases")
    op.drop_table("green_purchases")
