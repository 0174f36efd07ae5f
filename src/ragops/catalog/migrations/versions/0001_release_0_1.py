"""The catalog of ragops 0.1, the last release before migrations.

On an empty database this creates the 0.1 schema, so every catalog then follows the same
path. On a catalog made by ragops 0.1 (no ``alembic_version`` table yet) it only adds the
nullable columns that releases before 0.1 lacked; nothing else changes.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_v01 = sa.MetaData()

sa.Table(
    "generations",
    _v01,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("index_name", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("collection", sa.String(128), nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    sa.Column("dimension", sa.Integer, nullable=False),
    sa.Column("distance", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("index_name", "fingerprint"),
)
sa.Table(
    "versions",
    _v01,
    sa.Column("index_name", sa.String(64), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("generation_id", sa.Integer, sa.ForeignKey("generations.id"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("documents", sa.Integer, nullable=False),
    sa.Column("chunks", sa.Integer, nullable=False),
    sa.Column("stats_json", sa.Text, nullable=False),
    sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True),
)
sa.Table(
    "documents",
    _v01,
    sa.Column("generation_id", sa.Integer, sa.ForeignKey("generations.id"), primary_key=True),
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("doc_id", sa.String(1024), primary_key=True),
    sa.Column("version_marker", sa.String(256), nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("chunk_ids_json", sa.Text, nullable=False),
    sa.Column("updated_version", sa.Integer, nullable=False),
)
sa.Table(
    "environments",
    _v01,
    sa.Column("index_name", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("generation_id", sa.Integer, sa.ForeignKey("generations.id"), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Table(
    "environment_history",
    _v01,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("index_name", sa.String(64), nullable=False),
    sa.Column("environment", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("from_version", sa.Integer, nullable=True),
    sa.Column("to_version", sa.Integer, nullable=False),
    sa.Column("forced", sa.Boolean, nullable=False, default=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("evidence_json", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
sa.Table(
    "evals",
    _v01,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("index_name", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("dataset", sa.String(64), nullable=False),
    sa.Column("k", sa.Integer, nullable=False),
    sa.Column("metrics_json", sa.Text, nullable=False),
    sa.Column("report_json", sa.Text, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("prompt_sha256", sa.String(64), nullable=True),
    sa.Column("judge", sa.String(256), nullable=True),
    sa.Column("results_path", sa.Text, nullable=True),
    sa.Column("usage_json", sa.Text, nullable=True),
)
sa.Table(
    "sync_locks",
    _v01,
    sa.Column("index_name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(256), nullable=False),
    sa.Column("host", sa.String(128), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Table(
    "prompt_versions",
    _v01,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("path", sa.String(256), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("template", sa.Text, nullable=False),
    sa.Column("variables_json", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("name", "number"),
)
sa.Table(
    "prompt_aliases",
    _v01,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("alias", sa.String(64), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["name", "sha256"], ["prompt_versions.name", "prompt_versions.sha256"]),
)
sa.Table(
    "prompt_alias_history",
    _v01,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("alias", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("from_sha256", sa.String(64), nullable=True),
    sa.Column("to_sha256", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


def upgrade() -> None:
    bind = op.get_bind()
    present = set(sa.inspect(bind).get_table_names())
    for table in _v01.sorted_tables:
        if table.name not in present:
            table.create(bind)
            continue
        have = {column["name"] for column in sa.inspect(bind).get_columns(table.name)}
        for column in table.columns:
            if column.name in have:
                continue
            if not column.nullable:
                raise RuntimeError(
                    f"table {table.name} lacks the required column {column.name}: this catalog "
                    "was not made by ragops; move it aside and sync again"
                )
            op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))


def downgrade() -> None:
    raise NotImplementedError("ragops catalogs are upgraded only; restore a backup to go back")
