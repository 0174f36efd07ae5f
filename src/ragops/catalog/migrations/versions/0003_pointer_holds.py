"""ragops 0.2: an environment can be held against automatic promotion.

``pointers.held_by`` / ``held_at`` / ``hold_reason``: set by ``ragops hold`` (and by a rollback),
cleared by ``ragops release`` or a manual promotion. Holds and releases are recorded in
``pointer_history`` with actions ``hold`` and ``release``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pointers") as batch:
        batch.add_column(sa.Column("held_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("held_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("hold_reason", sa.Text, nullable=True))


def downgrade() -> None:
    raise NotImplementedError("ragops catalogs are upgraded only; restore a backup to go back")
