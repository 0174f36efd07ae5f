"""ragops 0.5: connectors remember cursors and state between syncs; generations say when
points may be waiting for recovery.

``source_memory`` holds, per source of a generation, what its connector keeps between syncs:
the value of each incremental cursor (with its type) and the connector's own JSON state (the
web connector's page validators and links). It is written in the transaction that commits the
version built from the listing, so a failed sync never moves a cursor.

``generations.writing_version`` is set before a sync or restore writes its first point and
cleared when its version commits: a sync that finds it set recovers (deletes the points of the
uncommitted version, reopens those it closed) and one that finds it clear need not open the
vector store to check. Generations that exist already get 0 ("unknown"), so each recovers once.

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
    with op.batch_alter_table("generations") as batch:
        batch.add_column(sa.Column("writing_version", sa.Integer, nullable=True))
    op.execute("UPDATE generations SET writing_version = 0")


def downgrade() -> None:
    raise NotImplementedError("ragops catalogs are upgraded only; restore a backup to go back")
