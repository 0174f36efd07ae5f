"""Sync: pull an index's sources and build its next immutable version.

The steps, in order (each one safe to die in):

1. **Lease** the index (see :mod:`ragops.catalog.leases`), find or create the **generation**
   of the current spec fingerprint, and give collections made before ragops 0.2 their
   project-scoped name.
2. **Recover**: when the catalog says a sync or restore was writing a version it never
   committed (``generations.writing_version``), the points it left (``v_from`` above the last
   committed version, or ``v_to`` closed by it) are deleted or reopened. Otherwise the vector
   store is not even opened until there is something to write: a no-op sync reads only the
   catalog and the sources.
3. **List** every source completely (:mod:`ragops.versions.plan`), each connector starting
   from the cursors and state it kept last time in this generation. A source that fails, or
   yields a ``doc_id`` twice, aborts the sync before any write.
4. **Diff** against the documents recorded for this generation; read, parse and chunk only
   the candidates (:mod:`ragops.versions.prepare`), in a background thread.
5. **Write** (after recording in the catalog that version N+1 is being written) new points
   with ``v_from = N+1`` and close superseded ones with ``v_to = N+1``
   (:mod:`ragops.versions.writer`). A chunk whose text and payload did not change keeps its
   point.
6. **Commit** version N+1, the document states and the connectors' new cursors and state in
   one catalog transaction, fenced by the lease. Until then readers of version N see nothing
   of the new points, and a sync that dies never moves a cursor.

A sync that finds nothing to change creates no version and writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ragops._faults import checkpoint
from ragops.catalog import DocumentState, Generation, Lease
from ragops.sources import SourceMemory
from ragops.vectors.sparse import sparse_encoder
from ragops.versions.collections import adopt_legacy_collections
from ragops.versions.document_states import (
    DocumentCounts,
    apply_outcome,
    count_renames,
    with_version,
)
from ragops.versions.plan import (
    Plan,
    list_sources_incrementally,
    plan_changes,
    refuse_mass_deletes,
)
from ragops.versions.prepare import DocumentOutcome, Preparer
from ragops.versions.staged import StagedChanges
from ragops.versions.writer import MIN_EMBED_BATCH, PointWriter

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

__all__ = ["DocumentCounts", "SyncProgress", "SyncResult", "stage_index", "sync_index"]


class SyncProgress:
    """Receives progress events; the CLI draws them as Rich progress bars. Does nothing here."""

    def start(self, stage: str, total: int | None) -> None:
        """A stage (``parse``, ``embed``, ``write``) begins with ``total`` units of work."""

    def advance(self, stage: str, amount: int = 1) -> None:
        """``amount`` units of ``stage`` are done."""

    def grow(self, stage: str, amount: int) -> None:
        """``stage`` has ``amount`` more units to do than announced."""


@dataclass
class SyncResult:
    """What a sync did. ``version`` is the index's latest version in this generation."""

    index: str
    version: int | None
    generation: str
    collection: str
    created_version: bool
    fingerprint: str = ""
    documents: DocumentCounts = field(default_factory=DocumentCounts)
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    points_written: int = 0
    points_closed: int = 0
    recovered_points: int = 0
    pruned_versions: list[int] = field(default_factory=list)
    quarantined: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        data["timings"] = {k: round(v, 3) for k, v in self.timings.items()}
        return data


def sync_index(
    project: Project,
    index_name: str,
    progress: SyncProgress | None = None,
    staged: StagedChanges | None = None,
    *,
    lease: Lease | None = None,
    allow_mass_delete: bool = False,
    full_listing: bool = False,
) -> SyncResult:
    """Bring ``index_name`` up to date with its sources; see the module docstring.

    ``allow_mass_delete``: let through a listing that deletes more of a source than its
    ``max_delete_fraction`` allows (else MassDeleteError before anything is written).
    ``full_listing``: list every source in full, ignoring the cursors and state its connector
    kept (they are saved afresh from this listing); nothing is re-embedded that did not change.

    ``staged`` (from :func:`stage_index`) skips listing and parsing when it still matches the
    index's generation and head version; otherwise it is ignored and the sync starts afresh.
    ``lease``: the index's lease when the caller holds it already (else it is taken here).
    """
    with project.hold(index_name, "sync", lease) as held:
        sync = _Sync(project, index_name, progress or SyncProgress(), held)
        sync.allow_mass_delete = allow_mass_delete
        sync.full_listing = full_listing
        return sync.run(staged)


def stage_index(
    project: Project, index_name: str, progress: SyncProgress | None = None
) -> StagedChanges:
    """List, diff, parse and chunk an index's changed documents without embedding them."""
    with project.hold(index_name, "sync") as held:
        return _Sync(project, index_name, progress or SyncProgress(), held).stage()


@dataclass
class _Opened:
    generation: Generation
    head_number: int
    head_chunks: int
    recovered: int
    known: Mapping[tuple[str, str], DocumentState]
    #: Metadata keys of the head version's chunks (None: not recorded, an older release).
    head_metadata_keys: list[str] | None = None
    #: The BM25 average chunk length the generation's versions were weighed with (None: not
    #: measured yet, or dense only).
    sparse_avg_len: float | None = None
    #: What each source's connector kept at the last sync (cursors and state).
    memories: dict[str, SourceMemory] = field(default_factory=dict)


class _Sync:
    def __init__(
        self, project: Project, index_name: str, progress: SyncProgress, lease: Lease
    ) -> None:
        self.project = project
        self.index_name = index_name
        self.config = project.config.index(index_name)
        self.progress = progress
        self.lease = lease
        self.catalog = project.catalog
        self.timings: dict[str, float] = {"parse": 0.0, "embed": 0.0, "write": 0.0}
        #: Let a listing delete more of a source than its max_delete_fraction allows.
        self.allow_mass_delete = False
        #: Ignore the cursors and state connectors kept: list every source in full.
        self.full_listing = False
        self.preparer = Preparer(
            project.chunker(index_name), project.config.parsing_for(index_name), self.timings
        )

    def _open(self) -> _Opened:
        """Find or create the generation and undo whatever a dead sync left in it."""
        spec = self.project.index_spec(self.index_name)
        adopt_legacy_collections(self.project, self.index_name)
        generation = self.catalog.generations.get_or_create(
            self.index_name,
            spec.fingerprint,
            spec.to_dict(),
            spec.dimension,
            self.config.distance,
            collection=self.project.collection_name(self.index_name, spec.fingerprint),
        )
        head = self.catalog.versions.latest(self.index_name, generation.id)
        head_number = head.number if head else 0
        self.lease.check()
        recovered = 0
        if generation.writing_version is not None:  # a sync or restore died while writing
            self._create_collection(generation)
            recovered = self.project.store.rollback_uncommitted(generation.collection, head_number)
        self.project.chunk_store.discard_after(generation.collection, head_number)
        checkpoint("after_recovery")
        return _Opened(
            generation,
            head_number,
            head.chunks if head else 0,
            recovered,
            self.catalog.documents.states(generation.id),
            head.stats.get("metadata_keys") if head else [],
            head.stats.get("sparse_avg_len") if head else None,
            {} if self.full_listing else self.catalog.source_memory.of_generation(generation.id),
        )

    def _create_collection(self, generation: Generation) -> None:
        self.project.store.create_collection(
            generation.collection,
            generation.dimension,
            self.config.distance,
            sparse=generation.spec.get("sparse") is not None,
        )

    def _begin_writing(self, generation: Generation, number: int) -> None:
        """Before the first point is written: the collection exists (opening the store, which
        fails here when another process holds it), then the catalog records that version
        ``number`` may leave points to recover."""
        self._create_collection(generation)
        self.catalog.generations.begin_writing(generation.id, number, fence=self.lease.fence)

    def _plan(self, opened: _Opened) -> Plan:
        listed = list_sources_incrementally(
            self.project, self.config.sources, opened.memories, opened.known
        )
        return plan_changes(listed, opened.known, opened.generation.fingerprint, opened.head_number)

    def _checked(self, plan: Plan, opened: _Opened) -> Plan:
        if not self.allow_mass_delete:
            refuse_mass_deletes(plan, opened.known, self.project, self.index_name)
        return plan

    def stage(self) -> StagedChanges:
        opened = self._open()
        plan = self._plan(opened)
        self.progress.start("parse", len(plan.candidates))
        outcomes = []
        for outcome in self.preparer.in_background(plan.candidates, opened.known):
            outcomes.append(outcome)
            self.progress.advance("parse")
        return StagedChanges(plan, outcomes, self.timings["parse"])

    def run(self, staged: StagedChanges | None = None) -> SyncResult:
        started = time.perf_counter()
        opened = self._open()
        generation, head_number, known = opened.generation, opened.head_number, opened.known
        if staged is not None and staged.matches(generation.fingerprint, head_number):
            plan = self._checked(staged.plan, opened)
            outcomes: Iterator[DocumentOutcome] = iter(staged.outcomes)
            self.timings["parse"] = staged.seconds
        else:
            plan = self._checked(self._plan(opened), opened)
            outcomes = self.preparer.in_background(plan.candidates, known)
        result = SyncResult(
            index=self.index_name,
            version=head_number or None,
            generation=generation.fingerprint[:12],
            collection=generation.collection,
            created_version=False,
            recovered_points=opened.recovered,
            fingerprint=generation.fingerprint,
        )
        counts = result.documents
        counts.seen = len(plan.seen)
        counts.unchanged = plan.unchanged
        counts.deleted = len(plan.deleted)
        if not plan.candidates and not plan.deleted:
            # nothing to read or write: the vector store is not even opened
            if _moved(plan.memories, opened.memories):
                self.catalog.documents.update(
                    generation.id, [], fence=self.lease.fence, memories=plan.memories
                )
            elif generation.writing_version is not None:  # recovered above
                self.catalog.generations.end_writing(generation.id, fence=self.lease.fence)
            return self._finished(result, opened, plan, started)

        next_number = self.catalog.versions.next_number(self.index_name)
        self._begin_writing(generation, next_number)
        writer = PointWriter(
            self.project.store,
            generation,
            next_number,
            self.project.embedder(self.index_name),
            self.progress,
            self.timings,
            cache=self.project.embedding_cache(self.index_name),
            delta=self.project.chunk_store.writer(
                generation.collection, next_number, generation.dimension
            ),
            check=self.lease.check,
            context=generation.spec.get("context"),
            sparse=sparse_encoder(generation.spec.get("sparse"), opened.sparse_avg_len),
        )
        doc_states: list[DocumentState] = []
        self.progress.start("parse", len(plan.candidates))
        metadata_keys: set[str] = set()
        for outcome in outcomes:
            metadata_keys.update(key for chunk in outcome.chunks for key in chunk.metadata)
            if self.preparer.is_behind() and len(writer.pending) >= MIN_EMBED_BATCH:
                writer.flush_embeddings()  # keep the model busy while parsing catches up
            previous = known.get(outcome.listed.key)
            doc_states.append(
                apply_outcome(outcome, previous, writer, next_number, head_number, counts)
            )
            self.progress.advance("parse")
        for key in plan.deleted:
            writer.close(known[key].point_ids)
        writer.flush()
        count_renames(counts, doc_states, known, plan.deleted)
        result.embedded, result.reused = writer.embedded, writer.reused
        result.points_written, result.points_closed = writer.written, writer.closed

        if writer.written or writer.closed:
            result.chunks = self.project.store.count(generation.collection, next_number)
            stats = {
                "documents": asdict(counts),
                "chunks": result.chunks,
                "embedded": result.embedded,
                "reused": result.reused,
                "points_written": result.points_written,
                "points_closed": result.points_closed,
                "seconds": round(time.perf_counter() - started, 3),
            }
            if opened.head_metadata_keys is not None:  # every key a chunk may be filtered on
                stats["metadata_keys"] = sorted({*opened.head_metadata_keys, *metadata_keys})
            if writer.sparse is not None and writer.sparse.avg_len is not None:
                stats["sparse_avg_len"] = writer.sparse.avg_len
            versioned = [with_version(s, next_number) for s in doc_states]
            writer.delta.commit()
            checkpoint("before_commit")
            self.catalog.versions.commit(
                self.index_name,
                next_number,
                generation.id,
                versioned,
                plan.deleted,
                stats,
                fence=self.lease.fence,
                memories=plan.memories,
            )
            checkpoint("after_commit")
            result.version = next_number
            result.created_version = True
        else:
            writer.delta.discard()
            self.catalog.documents.update(  # also records that nothing waits for recovery
                generation.id,
                [with_version(s, head_number) for s in doc_states],
                fence=self.lease.fence,
                memories=plan.memories,
            )
        return self._finished(result, opened, plan, started)

    def _finished(
        self, result: SyncResult, opened: _Opened, plan: Plan, started: float
    ) -> SyncResult:
        """``result`` with the quarantined documents of the listing and the timings."""
        generation, counts = opened.generation, result.documents
        if not result.created_version:
            result.chunks = opened.head_chunks
        seen_keys = set(plan.seen)
        quarantined = self.catalog.documents.states(generation.id, status="quarantined")
        result.quarantined = [
            {"source": s.source, "doc_id": s.doc_id, "reason": s.reason or ""}
            for key, s in sorted(quarantined.items())
            if key in seen_keys
        ]
        counts.quarantined = len(result.quarantined)
        result.seconds = time.perf_counter() - started
        result.timings = {k: round(v, 3) for k, v in self.timings.items()}
        return result


def _moved(new: dict[str, SourceMemory], old: dict[str, SourceMemory]) -> bool:
    """True when a connector's cursors or state differ from what was saved."""
    return any(memory != old.get(source, SourceMemory()) for source, memory in new.items())
