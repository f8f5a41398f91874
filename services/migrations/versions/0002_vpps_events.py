"""VPPs with their versions, DR events with their history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "vpps",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("organisation", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_vpps_organisation", "vpps", ["organisation"])
    op.create_table(
        "vpp_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("vpp_id", sa.String(64), sa.ForeignKey("vpps.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("vpp_id", "version"),
    )
    op.create_index("ix_vpp_versions_vpp_id", "vpp_versions", ["vpp_id"])
    op.create_table(
        "dr_events",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("organisation", sa.String(64), nullable=False),
        sa.Column("vpp_id", sa.String(64), sa.ForeignKey("vpps.id"), nullable=False),
        sa.Column("modification", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("plan", sa.JSON, nullable=True),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("allocations_run", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_dr_events_organisation", "dr_events", ["organisation"])
    op.create_index("ix_dr_events_vpp_id", "dr_events", ["vpp_id"])
    op.create_table(
        "dr_event_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(128), sa.ForeignKey("dr_events.id"), nullable=False),
        sa.Column("modification", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("plan", sa.JSON, nullable=True),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_dr_event_versions_event_id", "dr_event_versions", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_dr_event_versions_event_id", "dr_event_versions")
    op.drop_table("dr_event_versions")
    op.drop_index("ix_dr_events_vpp_id", "dr_events")
    op.drop_index("ix_dr_events_organisation", "dr_events")
    op.drop_table("dr_events")
    op.drop_index("ix_vpp_versions_vpp_id", "vpp_versions")
    op.drop_table("vpp_versions")
    op.drop_index("ix_vpps_organisation", "vpps")
    op.drop_table("vpps")
