"""ragops 0.4: evals record how they searched.

``evals.retrieval`` names the retrieval the scores were measured with: the mode (``dense``,
``sparse``, ``hybrid-rrf``, ``hybrid-dbsf``) and, after a slash, the field hits were grouped by
(``hybrid-rrf/doc_id``: one hit per document). Gates compare evidence of one retrieval only.
Rows from before hold NULL, read as ``dense`` (all searches were dense and ungrouped then).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evals") as batch:
        batch.add_column(sa.Column("retrieval", sa.String(64), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("ragops catalogs are upgraded only; restore a backup to go back")
