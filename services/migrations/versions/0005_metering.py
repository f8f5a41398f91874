"""Storage stations, their raw meter readings (append-only) and the subsidy ledger; the owner
process of an in-progress Idempotency-Key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The process that reserved an Idempotency-Key, so a retry after a crash takes it over.
    op.add_column("idempotency", sa.Column("owner", sa.String(36), nullable=True))
    op.create_table(
        "stations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("organisation", sa.String(64), nullable=False),
        sa.Column("reporter", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_stations_organisation", "stations", ["organisation"])
    op.create_index("ix_stations_reporter", "stations", ["reporter"])
    op.create_table(
        "meter_readings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("station_id", sa.String(64), sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("meter_id", sa.String(64), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("charge_wh", sa.BigInteger, nullable=False),
        sa.Column("discharge_wh", sa.BigInteger, nullable=False),
        sa.Column("serial", sa.String(64), nullable=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("station_id", "meter_id", "ts"),
    )
    op.create_index("ix_meter_readings_station_id", "meter_readings", ["station_id"])
    op.create_table(
        "ledger_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("organisation", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ledger_runs_organisation", "ledger_runs", ["organisation"])
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("run_id", sa.String(36), sa.ForeignKey("ledger_runs.id"), nullable=False),
        sa.Column("station_id", sa.String(64), sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("eligible_wh", sa.BigInteger, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ledger_entries_run_id", "ledger_entries", ["run_id"])
    op.create_index("ix_ledger_entries_station_id", "ledger_entries", ["station_id"])
    op.create_index("ix_ledger_entries_month", "ledger_entries", ["month"])


def downgrade() -> None:
    for table, cols in (
        ("ledger_entries", ("month", "station_id", "run_id")),
        ("ledger_runs", ("organisation",)),
        ("meter_readings", ("station_id",)),
        ("stations", ("reporter", "organisation")),
    ):
        for col in cols:
            op.drop_index(f"ix_{table}_{col}", table)
        op.drop_table(table)
    with op.batch_alter_table("idempotency") as batch:  # SQLite rebuilds the table
        batch.drop_column("owner")
