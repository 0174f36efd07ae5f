"""The catalog's tables (SQLAlchemy Core), as of the newest migration.

The schema changes only through Alembic migrations (``ragops/catalog/migrations``); this module
describes the result, for queries. One catalog belongs to one project (table ``project``).

- ``generations``: one per index spec fingerprint (one physical collection each), with the
  version whose points a sync or restore is writing (``writing_version``), until it commits.
- ``versions``: numbered, immutable versions of an index; ``pruned_at`` is set by retention
  *before* it deletes the version's points.
- ``documents``: what each generation's newest version was built from (markers, hashes,
  chunk and point ids), for incremental sync.
- ``source_memory``: what each connector keeps between syncs (its cursors and state), per
  source of a generation, written in the transaction that commits the listing's version.
- ``pointers`` / ``pointer_history``: named pointers with a history, one mechanism for index
  environments (``kind = 'index'``, target = a version number) and prompt aliases
  (``kind = 'prompt'``, target = a prompt version's sha256).
- ``evals``: one row per eval run, with what the scores depend on (eval set content hash,
  prompt version, judge).
- ``prompt_versions``: immutable prompt versions by content hash.
- ``leases``: the lock of each index (sync, promotion, rollback, retention), renewed by its
  holder and expiring when the holder stops renewing it.
- ``audit_log``: operator actions that bypass the normal path (forced unlocks, lease takeovers),
  and API keys created and revoked.
- ``api_keys``: API keys by their public id, with the sha256 of their secret (never the secret),
  the principals they act as and their scope.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "api_keys",
    "audit_log",
    "documents",
    "evals",
    "generations",
    "leases",
    "metadata",
    "pointer_history",
    "pointers",
    "project",
    "prompt_versions",
    "source_memory",
    "versions",
]

metadata = sa.MetaData()

project = sa.Table(
    "project",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

generations = sa.Table(
    "generations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("index_name", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("collection", sa.String(128), nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    sa.Column("dimension", sa.Integer, nullable=False),
    sa.Column("distance", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # the version a sync or restore started writing points for and has not committed: its
    # points may be in the collection, so the next operation recovers (None: nothing pending)
    sa.Column("writing_version", sa.Integer, nullable=True),
    sa.UniqueConstraint("index_name", "fingerprint"),
)

versions = sa.Table(
    "versions",
    metadata,
    sa.Column("index_name", sa.String(64), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("generation_id", sa.Integer, sa.ForeignKey("generations.id"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("documents", sa.Integer, nullable=False),
    sa.Column("chunks", sa.Integer, nullable=False),
    sa.Column("stats_json", sa.Text, nullable=False),
    sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True),
)

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("generation_id", sa.Integer, sa.ForeignKey("generations.id"), primary_key=True),
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("doc_id", sa.String(1024), primary_key=True),
    sa.Column("version_marker", sa.String(256), nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # indexed | quarantined
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("chunk_ids_json", sa.Text, nullable=False),
    sa.Column("updated_version", sa.Integer, nullable=False),
    # sha256 of what every chunk's payload takes from the document (metadata, ACL, filename)
    sa.Column("metadata_sha256", sa.String(64), nullable=True),
)

source_memory = sa.Table(
    "source_memory",
    metadata,
    sa.Column("generation_id", sa.Integer, sa.ForeignKey("generations.id"), primary_key=True),
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("memory_json", sa.Text, nullable=False),  # {"cursors": {...}, "state": {...}}
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

pointers = sa.Table(
    "pointers",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),  # index | prompt
    sa.Column("subject", sa.String(64), primary_key=True),  # index or prompt name
    sa.Column("name", sa.String(64), primary_key=True),  # environment or alias
    sa.Column("target", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # set while the pointer is held against automatic promotion (ragops hold / rollback)
    sa.Column("held_by", sa.String(128), nullable=True),
    sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("hold_reason", sa.Text, nullable=True),
)

pointer_history = sa.Table(
    "pointer_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("subject", sa.String(64), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # promote | rollback | hold | release
    sa.Column("from_target", sa.String(64), nullable=True),
    sa.Column("to_target", sa.String(64), nullable=False),
    sa.Column("forced", sa.Boolean, nullable=False, default=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("evidence_json", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_pointer_history_pointer", "kind", "subject", "name"),
)

evals = sa.Table(
    "evals",
    metadata,
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
    # sha256 of the eval set file's content: an edited eval set is other evidence
    sa.Column("dataset_sha256", sa.String(64), nullable=True),
    # how the eval searched: "hybrid-rrf/doc_id" (mode, then the grouping field); NULL: dense
    sa.Column("retrieval", sa.String(64), nullable=True),
    sa.Index("ix_evals_version", "index_name", "version"),
)

prompt_versions = sa.Table(
    "prompt_versions",
    metadata,
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

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),  # "index:<name>"
    sa.Column("token", sa.String(36), nullable=False),  # the holder's random id
    sa.Column("holder", sa.Text, nullable=False),  # for people: pid, host, command
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("process", sa.String(255), nullable=False),  # boot id, pid namespace, pid, start
    sa.Column("acquired_at", sa.Float, nullable=False),  # epoch seconds
    sa.Column("renewed_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("renewals", sa.Integer, nullable=False),  # compare-and-swap on takeover
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(128), nullable=False),
    sa.Column("detail_json", sa.Text, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),  # public: shown in lists and logs
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("name", sa.String(128), nullable=True),
    sa.Column("principals_json", sa.Text, nullable=False),
    sa.Column("scope", sa.String(16), nullable=False),  # read | write | admin
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_by", sa.String(128), nullable=True),
    sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
)
