"""Clients, tokens, parks with their versions, idempotency records.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("organisation", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_tokens_client_id", "tokens", ["client_id"])
    op.create_table(
        "parks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("organisation", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_parks_organisation", "parks", ["organisation"])
    op.create_table(
        "park_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("park_id", sa.String(64), sa.ForeignKey("parks.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("park_id", "version"),
    )
    op.create_index("ix_park_versions_park_id", "park_versions", ["park_id"])
    op.create_table(
        "idempotency",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("method_path", sa.String(400), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("response", sa.LargeBinary, nullable=True),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotency")
    op.drop_index("ix_park_versions_park_id", "park_versions")
    op.drop_table("park_versions")
    op.drop_index("ix_parks_organisation", "parks")
    op.drop_table("parks")
    op.drop_index("ix_tokens_client_id", "tokens")
    op.drop_table("tokens")
