"""The catalog: what ragops knows about indexes, in a SQL database (SQLAlchemy Core).

SQLite file by default, PostgreSQL for teams. It holds generations (one per index spec
fingerprint), numbered versions, the documents indexed in each generation (with their chunk
ids, for incremental sync), environments (pointers to versions) with their history, eval
results and sync locks. A version becomes visible to readers only when its row is committed,
in the same transaction that records its documents.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ragops.errors import CatalogError, IndexNotFoundError, SyncInProgressError

__all__ = [
    "Catalog",
    "DocumentState",
    "EnvironmentPointer",
    "Generation",
    "HistoryEntry",
    "VersionInfo",
]

metadata = sa.MetaData()

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
    # set when the retention janitor removed the version's points (the row stays as history)
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
)

environments = sa.Table(
    "environments",
    metadata,
    sa.Column("index_name", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("generation_id", sa.Integer, sa.ForeignKey("generations.id"), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

environment_history = sa.Table(
    "environment_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("index_name", sa.String(64), nullable=False),
    sa.Column("environment", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # promote | rollback
    sa.Column("from_version", sa.Integer, nullable=True),
    sa.Column("to_version", sa.Integer, nullable=False),
    sa.Column("forced", sa.Boolean, nullable=False, default=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("evidence_json", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
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
    # what else the scores depend on: the prompt version that generated answers, the judge
    sa.Column("prompt_sha256", sa.String(64), nullable=True),
    sa.Column("judge", sa.String(256), nullable=True),
    # per-question results (Parquet) and LLM token usage / cost of this eval
    sa.Column("results_path", sa.Text, nullable=True),
    sa.Column("usage_json", sa.Text, nullable=True),
)

sync_locks = sa.Table(
    "sync_locks",
    metadata,
    sa.Column("index_name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(256), nullable=False),
    sa.Column("host", sa.String(128), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
)

# -- prompt registry (queries live in ragops.prompts) ------------------------------------------
# A prompt version is immutable: its row is keyed by the sha256 of the normalized file content
# and never updated. Aliases (production, staging, ...) point at one version each; every move
# is appended to prompt_alias_history (rollback pops, like environment_history).

prompt_versions = sa.Table(
    "prompt_versions",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("number", sa.Integer, nullable=False),  # 1, 2, 3, ... per prompt, in order
    sa.Column("path", sa.String(256), nullable=False),  # file it came from, in prompts/
    sa.Column("content", sa.Text, nullable=False),  # the normalized file (what is hashed)
    sa.Column("template", sa.Text, nullable=False),  # the text after the front matter
    sa.Column("variables_json", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("name", "number"),
)

prompt_aliases = sa.Table(
    "prompt_aliases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("alias", sa.String(64), primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["name", "sha256"], ["prompt_versions.name", "prompt_versions.sha256"]),
)

prompt_alias_history = sa.Table(
    "prompt_alias_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("alias", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # promote | rollback
    sa.Column("from_sha256", sa.String(64), nullable=True),
    sa.Column("to_sha256", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Generation:
    id: int
    index_name: str
    fingerprint: str
    collection: str
    spec: dict[str, Any]
    dimension: int
    distance: str
    created_at: datetime


@dataclass(frozen=True)
class VersionInfo:
    index_name: str
    number: int
    generation_id: int
    created_at: datetime
    documents: int
    chunks: int
    stats: dict[str, Any]
    pruned_at: datetime | None = None


@dataclass(frozen=True)
class DocumentState:
    source: str
    doc_id: str
    version_marker: str
    content_sha256: str | None
    status: str
    reason: str | None
    chunk_ids: tuple[str, ...]
    updated_version: int
    #: The Qdrant point of each chunk in ``chunk_ids`` (same order).
    point_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class EnvironmentPointer:
    index_name: str
    name: str
    version: int
    generation_id: int
    updated_at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    environment: str
    action: str
    from_version: int | None
    to_version: int
    forced: bool
    actor: str
    reason: str | None
    evidence: dict[str, Any]
    at: datetime


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Catalog:
    """Reads and writes catalog state. Create one per process; it is thread-safe."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = sa.create_engine(url, future=True)
            if self.engine.dialect.name == "sqlite":
                sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            metadata.create_all(self.engine)
            _add_missing_columns(self.engine, self._safe_url())
        except sa.exc.SQLAlchemyError as exc:
            raise CatalogError(
                f"cannot open the catalog at {self._safe_url()}: {exc.__class__.__name__}: "
                f"{exc.orig if hasattr(exc, 'orig') else exc}; check catalog.url in ragops.yaml"
            ) from exc

    def _safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    # -- generations ---------------------------------------------------------------------

    def get_or_create_generation(
        self, index_name: str, fingerprint: str, spec: dict[str, Any], dimension: int, distance: str
    ) -> Generation:
        existing = self.generation_by_fingerprint(index_name, fingerprint)
        if existing is not None:
            return existing
        collection = f"{index_name}__{fingerprint[:12]}"
        with self.transaction() as connection:
            connection.execute(
                generations.insert().values(
                    index_name=index_name,
                    fingerprint=fingerprint,
                    collection=collection,
                    spec_json=json.dumps(spec, sort_keys=True),
                    dimension=dimension,
                    distance=distance,
                    created_at=_now(),
                )
            )
        created = self.generation_by_fingerprint(index_name, fingerprint)
        assert created is not None
        return created

    def generation_by_fingerprint(self, index_name: str, fingerprint: str) -> Generation | None:
        query = generations.select().where(
            generations.c.index_name == index_name, generations.c.fingerprint == fingerprint
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _generation(row) if row else None

    def generation(self, generation_id: int) -> Generation:
        with self.engine.connect() as connection:
            row = (
                connection.execute(generations.select().where(generations.c.id == generation_id))
                .mappings()
                .first()
            )
        if row is None:
            raise CatalogError(f"generation {generation_id} is missing from the catalog")
        return _generation(row)

    def generations(self, index_name: str) -> list[Generation]:
        query = (
            generations.select()
            .where(generations.c.index_name == index_name)
            .order_by(generations.c.id)
        )
        with self.engine.connect() as connection:
            return [_generation(row) for row in connection.execute(query).mappings()]

    # -- versions ------------------------------------------------------------------------

    def versions(self, index_name: str) -> list[VersionInfo]:
        query = (
            versions.select().where(versions.c.index_name == index_name).order_by(versions.c.number)
        )
        with self.engine.connect() as connection:
            return [_version(row) for row in connection.execute(query).mappings()]

    def version(self, index_name: str, number: int) -> VersionInfo:
        query = versions.select().where(
            versions.c.index_name == index_name, versions.c.number == number
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is not None and row["pruned_at"] is not None:
            raise IndexNotFoundError(
                f"version {number} of {index_name!r} was removed by retention on "
                f"{_aware(row['pruned_at']):%Y-%m-%d %H:%M} UTC (indexes.{index_name}.retention); "
                "it can no longer be searched or promoted"
            )
        if row is None:
            known = [v.number for v in self.versions(index_name) if v.pruned_at is None]
            raise IndexNotFoundError(
                f"index {index_name!r} has no version {number}; "
                + (
                    f"versions: {', '.join(map(str, known))}"
                    if known
                    else "run `ragops sync` first"
                )
            )
        return _version(row)

    def latest_version(
        self, index_name: str, generation_id: int | None = None
    ) -> VersionInfo | None:
        query = versions.select().where(
            versions.c.index_name == index_name, versions.c.pruned_at.is_(None)
        )
        if generation_id is not None:
            query = query.where(versions.c.generation_id == generation_id)
        query = query.order_by(versions.c.number.desc()).limit(1)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _version(row) if row else None

    def mark_pruned(self, index_name: str, numbers: Sequence[int]) -> None:
        """Record that the janitor removed these versions' points."""
        if not numbers:
            return
        with self.transaction() as connection:
            connection.execute(
                versions.update()
                .where(versions.c.index_name == index_name, versions.c.number.in_(list(numbers)))
                .values(pruned_at=_now())
            )

    def drop_generation_documents(self, generation_id: int) -> None:
        with self.transaction() as connection:
            connection.execute(documents.delete().where(documents.c.generation_id == generation_id))

    def next_version_number(self, index_name: str) -> int:
        query = sa.select(sa.func.max(versions.c.number)).where(versions.c.index_name == index_name)
        with self.engine.connect() as connection:
            current = connection.execute(query).scalar()
        return (current or 0) + 1

    def commit_version(
        self,
        index_name: str,
        number: int,
        generation_id: int,
        changed: Sequence[DocumentState],
        deleted: Sequence[tuple[str, str]],
        stats: dict[str, Any],
    ) -> VersionInfo:
        """Record version ``number`` and its document changes in one transaction."""
        with self.transaction() as connection:
            for source, doc_id in deleted:
                connection.execute(
                    documents.delete().where(
                        documents.c.generation_id == generation_id,
                        documents.c.source == source,
                        documents.c.doc_id == doc_id,
                    )
                )
            self._upsert_documents(connection, generation_id, changed)
            totals = connection.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.coalesce(
                        sa.func.sum(sa.case((documents.c.status == "indexed", 1), else_=0)), 0
                    ),
                ).where(documents.c.generation_id == generation_id)
            ).one()
            chunk_total = stats.get("chunks", 0)
            connection.execute(
                versions.insert().values(
                    index_name=index_name,
                    number=number,
                    generation_id=generation_id,
                    created_at=_now(),
                    documents=int(totals[1]),
                    chunks=int(chunk_total),
                    stats_json=json.dumps(stats, sort_keys=True),
                )
            )
        return self.version(index_name, number)

    def update_documents(self, generation_id: int, changed: Sequence[DocumentState]) -> None:
        """Record document changes that need no new version (a touched but identical file)."""
        with self.transaction() as connection:
            self._upsert_documents(connection, generation_id, changed)

    def _upsert_documents(
        self, connection: Connection, generation_id: int, changed: Sequence[DocumentState]
    ) -> None:
        for state in changed:
            connection.execute(
                documents.delete().where(
                    documents.c.generation_id == generation_id,
                    documents.c.source == state.source,
                    documents.c.doc_id == state.doc_id,
                )
            )
        if changed:
            connection.execute(
                documents.insert(),
                [
                    {
                        "generation_id": generation_id,
                        "source": s.source,
                        "doc_id": s.doc_id,
                        "version_marker": s.version_marker,
                        "content_sha256": s.content_sha256,
                        "status": s.status,
                        "reason": s.reason,
                        "chunk_ids_json": json.dumps(
                            [list(pair) for pair in zip(s.chunk_ids, s.point_ids, strict=True)]
                        ),
                        "updated_version": s.updated_version,
                    }
                    for s in changed
                ],
            )

    # -- documents -----------------------------------------------------------------------

    def documents(
        self, generation_id: int, status: str | None = None
    ) -> dict[tuple[str, str], DocumentState]:
        query = documents.select().where(documents.c.generation_id == generation_id)
        if status is not None:
            query = query.where(documents.c.status == status)
        states = {}
        with self.engine.connect() as connection:
            for row in connection.execute(query).mappings():
                chunk_ids, point_ids = _chunk_and_point_ids(row["chunk_ids_json"])
                states[(row["source"], row["doc_id"])] = DocumentState(
                    source=row["source"],
                    doc_id=row["doc_id"],
                    version_marker=row["version_marker"],
                    content_sha256=row["content_sha256"],
                    status=row["status"],
                    reason=row["reason"],
                    chunk_ids=chunk_ids,
                    point_ids=point_ids,
                    updated_version=row["updated_version"],
                )
        return states

    # -- environments --------------------------------------------------------------------

    def environments(self, index_name: str) -> dict[str, EnvironmentPointer]:
        query = environments.select().where(environments.c.index_name == index_name)
        with self.engine.connect() as connection:
            return {
                row["name"]: EnvironmentPointer(
                    index_name=row["index_name"],
                    name=row["name"],
                    version=row["version"],
                    generation_id=row["generation_id"],
                    updated_at=_aware(row["updated_at"]),
                )
                for row in connection.execute(query).mappings()
            }

    def environment(self, index_name: str, name: str) -> EnvironmentPointer:
        pointer = self.environments(index_name).get(name)
        if pointer is None:
            raise IndexNotFoundError(
                f"index {index_name!r} has no {name!r} environment yet; promote a version first: "
                f"`ragops promote {index_name} VERSION --env {name}`"
            )
        return pointer

    def move_environment(
        self,
        index_name: str,
        name: str,
        version: VersionInfo,
        action: str,
        actor: str,
        reason: str | None = None,
        forced: bool = False,
        evidence: dict[str, Any] | None = None,
        expected_from: int | None | object = ...,
    ) -> HistoryEntry:
        """Point environment ``name`` at ``version`` and record the move, atomically.

        ``expected_from`` (when given) must equal the pointer's current version, otherwise the
        move is refused: two operators cannot silently overwrite each other's promotion.
        """
        now = _now()
        with self.transaction() as connection:
            current = (
                connection.execute(
                    environments.select()
                    .where(environments.c.index_name == index_name, environments.c.name == name)
                    .with_for_update()
                )
                .mappings()
                .first()
            )
            from_version = current["version"] if current else None
            if expected_from is not ... and expected_from != from_version:
                from ragops.errors import PromotionError

                raise PromotionError(
                    f"environment {name!r} of {index_name!r} moved to version {from_version} "
                    f"while this change expected {expected_from}; look at `ragops history "
                    f"{index_name}` and try again"
                )
            values = {
                "version": version.number,
                "generation_id": version.generation_id,
                "updated_at": now,
            }
            if current:
                connection.execute(
                    environments.update()
                    .where(environments.c.index_name == index_name, environments.c.name == name)
                    .values(**values)
                )
            else:
                connection.execute(
                    environments.insert().values(index_name=index_name, name=name, **values)
                )
            entry = {
                "index_name": index_name,
                "environment": name,
                "action": action,
                "from_version": from_version,
                "to_version": version.number,
                "forced": forced,
                "actor": actor,
                "reason": reason,
                "evidence_json": json.dumps(evidence or {}),
                "at": now,
            }
            connection.execute(environment_history.insert().values(**entry))
        return HistoryEntry(
            environment=name,
            action=action,
            from_version=from_version,
            to_version=version.number,
            forced=forced,
            actor=actor,
            reason=reason,
            evidence=evidence or {},
            at=now,
        )

    def history(self, index_name: str, environment: str | None = None) -> list[HistoryEntry]:
        query = environment_history.select().where(environment_history.c.index_name == index_name)
        if environment is not None:
            query = query.where(environment_history.c.environment == environment)
        query = query.order_by(environment_history.c.id)
        with self.engine.connect() as connection:
            return [
                HistoryEntry(
                    environment=row["environment"],
                    action=row["action"],
                    from_version=row["from_version"],
                    to_version=row["to_version"],
                    forced=bool(row["forced"]),
                    actor=row["actor"],
                    reason=row["reason"],
                    evidence=json.loads(row["evidence_json"]),
                    at=_aware(row["at"]),
                )
                for row in connection.execute(query).mappings()
            ]

    # -- evals ---------------------------------------------------------------------------

    def record_eval(
        self,
        index_name: str,
        version: int,
        dataset: str,
        k: int,
        metrics: dict[str, Any],
        report: dict[str, Any],
        seconds: float,
        *,
        prompt_sha256: str | None = None,
        judge: str | None = None,
        results_path: str | None = None,
        usage: dict[str, Any] | None = None,
    ) -> None:
        """Store one eval's summary (``report``: counts, skipped metrics, timings)."""
        with self.transaction() as connection:
            connection.execute(
                evals.insert().values(
                    index_name=index_name,
                    version=version,
                    dataset=dataset,
                    k=k,
                    metrics_json=json.dumps(metrics, sort_keys=True),
                    report_json=json.dumps(report),
                    seconds=seconds,
                    created_at=_now(),
                    prompt_sha256=prompt_sha256,
                    judge=judge,
                    results_path=results_path,
                    usage_json=json.dumps(usage) if usage is not None else None,
                )
            )

    def eval_results(self, index_name: str, version: int | None = None) -> list[dict[str, Any]]:
        """Eval rows (newest last): version, dataset, k, metrics, seconds, created_at, report,
        prompt_sha256, judge, results_path (per-question Parquet) and usage."""
        query = sa.select(
            evals.c.version,
            evals.c.dataset,
            evals.c.k,
            evals.c.metrics_json,
            evals.c.seconds,
            evals.c.created_at,
            evals.c.report_json,
            evals.c.prompt_sha256,
            evals.c.judge,
            evals.c.results_path,
            evals.c.usage_json,
        ).where(evals.c.index_name == index_name)
        if version is not None:
            query = query.where(evals.c.version == version)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(evals.c.id)).mappings().all()
        return [
            {
                "version": r["version"],
                "dataset": r["dataset"],
                "k": r["k"],
                "metrics": json.loads(r["metrics_json"]),
                "seconds": r["seconds"],
                "created_at": _aware(r["created_at"]).isoformat(),
                "report": json.loads(r["report_json"]),
                "prompt_sha256": r["prompt_sha256"],
                "judge": r["judge"],
                "results_path": r["results_path"],
                "usage": json.loads(r["usage_json"]) if r["usage_json"] else None,
            }
            for r in rows
        ]

    # -- sync lock -----------------------------------------------------------------------

    @contextmanager
    def sync_lock(self, index_name: str) -> Iterator[None]:
        """Hold the sync lock of ``index_name``; SyncInProgressError names the holder.

        A lock left by a process that died on this host is taken over.
        """
        holder = f"pid {os.getpid()} on {socket.gethostname()} ({' '.join(sys.argv)[:180]})"
        self._acquire(index_name, holder)
        try:
            yield
        finally:
            with self.transaction() as connection:
                connection.execute(
                    sync_locks.delete().where(
                        sync_locks.c.index_name == index_name,
                        sync_locks.c.pid == os.getpid(),
                        sync_locks.c.host == socket.gethostname(),
                    )
                )

    def _acquire(self, index_name: str, holder: str) -> None:
        host, pid = socket.gethostname(), os.getpid()
        for _ in range(2):
            try:
                with self.transaction() as connection:
                    connection.execute(
                        sync_locks.insert().values(
                            index_name=index_name,
                            holder=holder,
                            host=host,
                            pid=pid,
                            acquired_at=_now(),
                        )
                    )
                return
            except sa.exc.IntegrityError:
                current = self.lock_holder(index_name)
                if current is None:
                    continue
                if current["host"] == host and not _pid_alive(current["pid"]):
                    with self.transaction() as connection:
                        connection.execute(
                            sync_locks.delete().where(
                                sync_locks.c.index_name == index_name,
                                sync_locks.c.pid == current["pid"],
                            )
                        )
                    continue
                raise SyncInProgressError(
                    f"index {index_name!r} is being synced by {current['holder']} since "
                    f"{_aware(current['acquired_at']):%Y-%m-%d %H:%M:%S} UTC; wait for it to "
                    "finish (or pass --wait)"
                ) from None
        raise SyncInProgressError(f"could not take the sync lock of {index_name!r}; try again")

    def lock_holder(self, index_name: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = (
                connection.execute(sync_locks.select().where(sync_locks.c.index_name == index_name))
                .mappings()
                .first()
            )
        return dict(row) if row else None


def _chunk_and_point_ids(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(chunk ids, point ids) from ``[[chunk, point], ...]``; the first release stored a
    plain list of chunk ids, which were also the point ids."""
    pairs = [item if isinstance(item, list) else [item, item] for item in json.loads(text)]
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)


def _add_missing_columns(engine: Engine, where: str) -> None:
    """Bring a catalog made by an older ragops up to date: add the nullable columns it lacks.

    Every column added since the first release is nullable, so this is all an upgrade needs;
    a missing required column means a catalog this release cannot read, said plainly.
    """
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise CatalogError(
                    f"the catalog at {where} lacks the required column {table.name}.{column.name}: "
                    "it was made by an incompatible ragops; move it aside (or delete it) and "
                    "sync again, or use the ragops release that made it"
                )
            kind = column.type.compile(dialect=engine.dialect)
            with engine.begin() as connection:
                connection.execute(
                    sa.text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')
                )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _generation(row: Any) -> Generation:
    return Generation(
        id=row["id"],
        index_name=row["index_name"],
        fingerprint=row["fingerprint"],
        collection=row["collection"],
        spec=json.loads(row["spec_json"]),
        dimension=row["dimension"],
        distance=row["distance"],
        created_at=_aware(row["created_at"]),
    )


def _version(row: Any) -> VersionInfo:
    return VersionInfo(
        index_name=row["index_name"],
        number=row["number"],
        generation_id=row["generation_id"],
        created_at=_aware(row["created_at"]),
        documents=row["documents"],
        chunks=row["chunks"],
        stats=json.loads(row["stats_json"]),
        pruned_at=_aware(row["pruned_at"]) if row["pruned_at"] else None,
    )
