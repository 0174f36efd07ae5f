"""ragops 0.2: one pointer mechanism, index leases, a project id, evidence hashes.

- ``environments`` + ``environment_history`` (index environments) and ``prompt_aliases`` +
  ``prompt_alias_history`` become rows of ``pointers`` + ``pointer_history`` (``kind`` index or
  prompt), history order kept.
- ``sync_locks`` (no expiry) is replaced by ``leases`` (renewed by the holder, expiring).
- ``project`` records the project's stable id (created on first open).
- ``documents.metadata_sha256`` and ``evals.dataset_sha256`` are added (empty for old rows: an
  old eval never counts as evidence for a gate, and an old document's chunks get their
  payload rewritten the next time the document changes).
- ``audit_log`` records forced unlocks and lease takeovers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "project",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    pointers = op.create_table(
        "pointers",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("subject", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    history = op.create_table(
        "pointer_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_target", sa.String(64), nullable=True),
        sa.Column("to_target", sa.String(64), nullable=False),
        sa.Column("forced", sa.Boolean, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("evidence_json", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_pointer_history_pointer", "pointer_history", ["kind", "subject", "name"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("token", sa.String(36), nullable=False),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("process", sa.String(255), nullable=False),
        sa.Column("acquired_at", sa.Float, nullable=False),
        sa.Column("renewed_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("renewals", sa.Integer, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("detail_json", sa.Text, nullable=False),
    )
    with op.batch_alter_table("documents") as batch:
        batch.add_column(sa.Column("metadata_sha256", sa.String(64), nullable=True))
    with op.batch_alter_table("evals") as batch:
        batch.add_column(sa.Column("dataset_sha256", sa.String(64), nullable=True))
    op.create_index("ix_evals_version", "evals", ["index_name", "version"])

    bind = op.get_bind()
    old = sa.MetaData()
    environments = sa.Table("environments", old, autoload_with=bind)
    environment_history = sa.Table("environment_history", old, autoload_with=bind)
    prompt_aliases = sa.Table("prompt_aliases", old, autoload_with=bind)
    prompt_alias_history = sa.Table("prompt_alias_history", old, autoload_with=bind)

    rows = [
        {
            "kind": "index",
            "subject": r.index_name,
            "name": r.name,
            "target": str(r.version),
            "updated_at": r.updated_at,
        }
        for r in bind.execute(sa.select(environments))
    ] + [
        {
            "kind": "prompt",
            "subject": r.name,
            "name": r.alias,
            "target": r.sha256,
            "updated_at": r.updated_at,
        }
        for r in bind.execute(sa.select(prompt_aliases))
    ]
    if rows:
        op.bulk_insert(pointers, rows)
    moves = [
        {
            "kind": "index",
            "subject": r.index_name,
            "name": r.environment,
            "action": r.action,
            "from_target": None if r.from_version is None else str(r.from_version),
            "to_target": str(r.to_version),
            "forced": bool(r.forced),
            "actor": r.actor,
            "reason": r.reason,
            "evidence_json": r.evidence_json,
            "at": r.at,
        }
        for r in bind.execute(sa.select(environment_history).order_by(environment_history.c.id))
    ] + [
        {
            "kind": "prompt",
            "subject": r.name,
            "name": r.alias,
            "action": r.action,
            "from_target": r.from_sha256,
            "to_target": r.to_sha256,
            "forced": False,
            "actor": r.actor,
            "reason": r.reason,
            "evidence_json": "{}",
            "at": r.at,
        }
        for r in bind.execute(sa.select(prompt_alias_history).order_by(prompt_alias_history.c.id))
    ]
    if moves:
        op.bulk_insert(history, moves)
    for name in (
        "environment_history",
        "environments",
        "prompt_alias_history",
        "prompt_aliases",
        "sync_locks",
    ):
        op.drop_table(name)


def downgrade() -> None:
    raise NotImplementedError("ragops catalogs are upgraded only; restore a backup to go back")
