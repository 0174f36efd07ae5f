"""ragops 0.5: connectors remember cursors and state between syncs.

``source_memory`` holds, per source of a generation, what its connector keeps between syncs:
the value of each incremental cursor (with its type) and the connector's own JSON state (the
web connector's page validators and links). It is written in the transaction that commits the
version built from the listing, so a failed sync never moves a cursor.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
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
        "source_memory",
        sa.Column("generation_id", sa.Integer, sa.ForeignKey("generations.id"), primary_key=True),
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("memory_json", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("ragops catalogs are upgraded only; restore a backup to go back")
