"""Day-ahead bids: versions per VPP and delivery day, immutable once submitted.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
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
        "bids",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("vpp_id", sa.String(64), sa.ForeignKey("vpps.id"), nullable=False),
        sa.Column("organisation", sa.String(64), nullable=False),
        sa.Column("delivery_date", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("content", sa.JSON, nullable=True),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("vpp_id", "delivery_date", "version"),
    )
    op.create_index("ix_bids_vpp_id", "bids", ["vpp_id"])
    op.create_index("ix_bids_organisation", "bids", ["organisation"])


def downgrade() -> None:
    op.drop_index("ix_bids_organisation", "bids")
    op.drop_index("ix_bids_vpp_id", "bids")
    op.drop_table("bids")
