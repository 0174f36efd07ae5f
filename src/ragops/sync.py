"""Sync: pull an index's sources and build its next immutable version.

The steps, in order (each one safe to die in):

1. **Lock** the index (catalog row naming the holder) and find or create the **generation** for
   the current spec fingerprint.
2. **Recover**: points left by a sync that died before committing (``v_from`` above the last
   committed version, or ``v_to`` closed by it) are deleted or reopened.
3. **List** every source completely. A source that fails aborts the sync before any write, so
   a vanished folder never deletes an index's documents.
4. **Diff** against the documents recorded for this generation: a document whose version
   marker is unchanged is not read; one whose marker changed is read and its content hash
   compared; only new or really changed documents are parsed, chunked and embedded.
5. **Write** new points with ``v_from = N+1`` and close superseded ones with ``v_to = N+1``.
   Parsing runs in a background thread while the model embeds, so the two overlap.
6. **Commit** version N+1 and the document states in one catalog transaction. Until then
   readers of version N see nothing of the new points.

A sync that finds nothing to change creates no version and writes nothing.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ragops._faults import checkpoint
from ragops.catalog import DocumentState, Generation
from ragops.chunk import Chunk, point_id
from ragops.connectors import SourceDocument
from ragops.errors import ParseError, ParserSetupError
from ragops.store import OPEN, PointRecord

if TYPE_CHECKING:  # pragma: no cover
    from ragops.chunk_store import DeltaWriter
    from ragops.embed_cache import EmbeddingCache
    from ragops.project import Project

__all__ = [
    "DocumentCounts",
    "Plan",
    "StagedChanges",
    "SyncProgress",
    "SyncResult",
    "stage_index",
    "sync_index",
]

#: Chunks embedded per model call at most, and at least when parsing is ahead of embedding.
#: When the parse thread has nothing ready, a smaller batch is embedded at once so the model
#: never waits for parsing (measured on hf-hub-docs: see benchmarks/bench_ingest.py).
_EMBED_BATCH = 256
_MIN_EMBED_BATCH = 32
_WRITE_BATCH = 512


class SyncProgress:
    """Receives progress events; the CLI draws them as Rich progress bars. Does nothing here."""

    def start(self, stage: str, total: int | None) -> None:
        """A stage (``parse``, ``embed``, ``write``) begins with ``total`` units of work."""

    def advance(self, stage: str, amount: int = 1) -> None:
        """``amount`` units of ``stage`` are done."""

    def grow(self, stage: str, amount: int) -> None:
        """``stage`` has ``amount`` more units to do than announced."""


@dataclass
class DocumentCounts:
    seen: int = 0
    new: int = 0
    changed: int = 0
    deleted: int = 0
    renamed: int = 0
    unchanged: int = 0
    quarantined: int = 0


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


@dataclass(frozen=True)
class ListedDocument:
    source: str
    document: SourceDocument


@dataclass
class DocumentOutcome:
    """What happened to one new or changed document in the background worker."""

    listed: ListedDocument
    status: str  # indexed | touched | quarantined
    content_sha256: str | None = None
    chunks: list[Chunk] = field(default_factory=list)
    reason: str | None = None


@dataclass
class Plan:
    """What a sync will do, decided from the listing and the catalog before any parsing."""

    fingerprint: str
    head_number: int
    seen: list[tuple[str, str]]
    candidates: list[ListedDocument]
    deleted: list[tuple[str, str]]
    unchanged: int


@dataclass
class StagedChanges:
    """Parsed and chunked changes of one index, waiting to be embedded (see ragops.staging)."""

    plan: Plan
    outcomes: list[DocumentOutcome]
    seconds: float = 0.0

    @property
    def chunk_count(self) -> int:
        return sum(len(o.chunks) for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        by_status = {"indexed": 0, "touched": 0, "quarantined": 0}
        for outcome in self.outcomes:
            by_status[outcome.status] += 1
        return {
            "seen": len(self.plan.seen),
            "candidates": len(self.plan.candidates),
            "deleted": len(self.plan.deleted),
            "unchanged": self.plan.unchanged,
            "parsed": by_status["indexed"],
            "touched": by_status["touched"],
            "quarantined": by_status["quarantined"],
            "chunks": self.chunk_count,
        }


def sync_index(
    project: Project,
    index_name: str,
    progress: SyncProgress | None = None,
    staged: StagedChanges | None = None,
) -> SyncResult:
    """Bring ``index_name`` up to date with its sources; see the module docstring.

    ``staged`` (from :func:`stage_index`) skips listing and parsing when it still matches the
    index's generation and head version; otherwise it is ignored and the sync starts afresh.
    """
    return _Sync(project, index_name, progress or SyncProgress()).run(staged)


def stage_index(
    project: Project, index_name: str, progress: SyncProgress | None = None
) -> StagedChanges:
    """List, diff, parse and chunk an index's changed documents without embedding them."""
    return _Sync(project, index_name, progress or SyncProgress()).stage()


@dataclass
class _Opened:
    generation: Generation
    head_number: int
    head_chunks: int
    recovered: int
    known: dict[tuple[str, str], DocumentState]


class _Sync:
    def __init__(self, project: Project, index_name: str, progress: SyncProgress) -> None:
        self.project = project
        self.index_name = index_name
        self.config = project.config.index(index_name)
        self.progress = progress
        self.catalog = project.catalog
        self.store = project.store
        self.timings: dict[str, float] = {"parse": 0.0, "embed": 0.0, "write": 0.0}
        #: Parsed documents waiting for the main thread (None when replaying staged changes).
        self._parsed_queue: queue.Queue[Any] | None = None

    def _parse_is_behind(self) -> bool:
        """True when the parse thread has no parsed document waiting."""
        return self._parsed_queue is not None and self._parsed_queue.empty()

    def _open(self) -> _Opened:
        """Find or create the generation and undo whatever a dead sync left in it."""
        spec = self.project.index_spec(self.index_name)
        generation = self.catalog.get_or_create_generation(
            self.index_name,
            spec.fingerprint,
            spec.to_dict(),
            spec.dimension,
            self.config.distance,
        )
        self.store.create_collection(generation.collection, spec.dimension, self.config.distance)
        head = self.catalog.latest_version(self.index_name, generation.id)
        head_number = head.number if head else 0
        recovered = self.store.rollback_uncommitted(generation.collection, head_number)
        self.project.chunk_store.discard_after(generation.collection, head_number)
        checkpoint("after_recovery")
        return _Opened(
            generation,
            head_number,
            head.chunks if head else 0,
            recovered,
            self.catalog.documents(generation.id),
        )

    def _plan(self, opened: _Opened) -> Plan:
        listed = self._list_sources()
        seen = [(item.source, item.document.doc_id) for item in listed]
        seen_keys = set(seen)
        candidates = []
        unchanged = 0
        for item in listed:
            state = opened.known.get((item.source, item.document.doc_id))
            if state is None or state.version_marker != item.document.version:
                candidates.append(item)
            else:
                unchanged += 1
        deleted = [key for key in opened.known if key not in seen_keys]
        return Plan(
            opened.generation.fingerprint, opened.head_number, seen, candidates, deleted, unchanged
        )

    def stage(self) -> StagedChanges:
        chunker = self.project.chunker(self.index_name)
        with self.catalog.sync_lock(self.index_name):
            opened = self._open()
            plan = self._plan(opened)
            self.progress.start("parse", len(plan.candidates))
            outcomes = []
            for outcome in self._prepare_in_background(plan.candidates, opened.known, chunker):
                outcomes.append(outcome)
                self.progress.advance("parse")
        return StagedChanges(plan, outcomes, self.timings["parse"])

    def run(self, staged: StagedChanges | None = None) -> SyncResult:
        started = time.perf_counter()
        embedder = self.project.embedder(self.index_name)
        chunker = self.project.chunker(self.index_name)
        with self.catalog.sync_lock(self.index_name):
            opened = self._open()
            generation, head_number, known = opened.generation, opened.head_number, opened.known
            if (
                staged is not None
                and staged.plan.fingerprint == generation.fingerprint
                and staged.plan.head_number == head_number
            ):
                plan = staged.plan
                outcomes: Iterator[DocumentOutcome] = iter(staged.outcomes)
                self.timings["parse"] = staged.seconds
            else:
                plan = self._plan(opened)
                outcomes = self._prepare_in_background(plan.candidates, known, chunker)
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
            seen_keys = set(plan.seen)
            deleted = plan.deleted

            next_number = self.catalog.next_version_number(self.index_name)
            writer = _PointWriter(
                self.store,
                generation,
                next_number,
                embedder,
                self.progress,
                self.timings,
                cache=self.project.embedding_cache(self.index_name),
                delta=self.project.chunk_store.writer(
                    generation.collection, next_number, generation.dimension
                ),
            )
            doc_states: list[DocumentState] = []
            self.progress.start("parse", len(plan.candidates))
            for outcome in outcomes:
                if self._parse_is_behind() and len(writer.pending) >= _MIN_EMBED_BATCH:
                    writer.flush_embeddings()  # keep the model busy while parsing catches up
                key = (outcome.listed.source, outcome.listed.document.doc_id)
                previous = known.get(key)
                state = self._apply(outcome, previous, writer, next_number, head_number, result)
                doc_states.append(state)
                self.progress.advance("parse")
            for key in deleted:
                writer.close(known[key].point_ids)
            writer.flush()
            _count_renames(counts, doc_states, known, deleted)
            result.embedded = writer.embedded
            result.reused = writer.reused
            result.points_written = writer.written
            result.points_closed = writer.closed

            changed_points = writer.written or writer.closed
            if changed_points:
                result.chunks = self.store.count(generation.collection, next_number)
                result.seconds = time.perf_counter() - started
                result.timings = dict(self.timings)
                stats = {
                    "documents": asdict(counts),
                    "chunks": result.chunks,
                    "embedded": result.embedded,
                    "reused": result.reused,
                    "points_written": result.points_written,
                    "points_closed": result.points_closed,
                    "seconds": round(result.seconds, 3),
                }
                versioned = [_replace_version(s, next_number) for s in doc_states]
                writer.delta.commit()
                checkpoint("before_commit")
                self.catalog.commit_version(
                    self.index_name, next_number, generation.id, versioned, deleted, stats
                )
                checkpoint("after_commit")
                result.version = next_number
                result.created_version = True
            else:
                writer.delta.discard()
                result.chunks = opened.head_chunks
                if doc_states:
                    self.catalog.update_documents(
                        generation.id, [_replace_version(s, head_number) for s in doc_states]
                    )
            quarantined = self.catalog.documents(generation.id, status="quarantined")
            counts.quarantined = sum(1 for key in quarantined if key in seen_keys)
            result.quarantined = [
                {"source": s.source, "doc_id": s.doc_id, "reason": s.reason or ""}
                for key, s in sorted(quarantined.items())
                if key in seen_keys
            ]
        result.seconds = time.perf_counter() - started
        result.timings = {k: round(v, 3) for k, v in self.timings.items()}
        return result

    # -- listing ---------------------------------------------------------------------------

    def _list_sources(self) -> list[ListedDocument]:
        listed: list[ListedDocument] = []
        for source_name in self.config.sources:
            connector, options = self.project.connector_for(source_name)
            seen: set[str] = set()
            for document in connector.iter_documents(source_name, options, self.project.root):
                if document.doc_id in seen:
                    continue  # a connector listing a document twice must not index it twice
                seen.add(document.doc_id)
                listed.append(ListedDocument(source_name, document))
        return listed

    # -- parse and chunk (background thread) -------------------------------------------------

    def _prepare_in_background(
        self,
        candidates: Sequence[ListedDocument],
        known: dict[tuple[str, str], DocumentState],
        chunker: Any,
    ) -> Iterator[DocumentOutcome]:
        outcomes: queue.Queue[DocumentOutcome | BaseException | None] = queue.Queue(maxsize=64)
        self._parsed_queue = outcomes
        stop = threading.Event()

        def work() -> None:
            try:
                for item in candidates:
                    if stop.is_set():
                        return
                    outcomes.put(self._prepare(item, known, chunker))
                outcomes.put(None)
            except BaseException as exc:  # handed to the main thread, raised there
                outcomes.put(exc)

        worker = threading.Thread(target=work, name=f"ragops-parse-{self.index_name}", daemon=True)
        worker.start()
        try:
            while True:
                item = outcomes.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while worker.is_alive():
                try:
                    outcomes.get_nowait()
                except queue.Empty:
                    worker.join(timeout=0.05)

    def _prepare(
        self, item: ListedDocument, known: dict[tuple[str, str], DocumentState], chunker: Any
    ) -> DocumentOutcome:
        from ragops.parse import parse_document

        document = item.document
        started = time.perf_counter()
        try:
            content = document.load()
        except Exception as exc:
            return DocumentOutcome(
                item, "quarantined", reason=f"unreadable: {exc.__class__.__name__}: {exc}"
            )
        digest = hashlib.sha256(content).hexdigest()
        previous = known.get((item.source, document.doc_id))
        if previous is not None and previous.content_sha256 == digest:
            return DocumentOutcome(item, "touched", content_sha256=digest)
        try:
            parsed = parse_document(content, document.filename, document.mime_type)
        except ParserSetupError:
            raise  # concerns every document: stop the sync and show the fix
        except ParseError as exc:
            return DocumentOutcome(item, "quarantined", content_sha256=digest, reason=str(exc))
        except Exception as exc:  # a parser bug must not end the run: quarantine with the cause
            return DocumentOutcome(
                item,
                "quarantined",
                content_sha256=digest,
                reason=f"parser failed: {exc.__class__.__name__}: {exc}",
            )
        metadata = {**dict(document.metadata), "filename": document.filename}
        chunks = chunker.split(item.source, document.doc_id, parsed.text, metadata)
        self.timings["parse"] += time.perf_counter() - started
        if not chunks:
            return DocumentOutcome(
                item,
                "quarantined",
                content_sha256=digest,
                reason="no text left after parsing (empty document)",
            )
        return DocumentOutcome(item, "indexed", content_sha256=digest, chunks=chunks)

    # -- applying one document -------------------------------------------------------------

    def _apply(
        self,
        outcome: DocumentOutcome,
        previous: DocumentState | None,
        writer: _PointWriter,
        next_number: int,
        head_number: int,
        result: SyncResult,
    ) -> DocumentState:
        document = outcome.listed.document
        counts = result.documents
        if previous is None:
            counts.new += 1
        elif outcome.status == "touched":
            counts.unchanged += 1
        else:
            counts.changed += 1
        base = dict(
            source=outcome.listed.source, doc_id=document.doc_id, version_marker=document.version
        )
        if outcome.status == "touched":
            assert previous is not None
            return DocumentState(
                **base,
                content_sha256=previous.content_sha256,
                status=previous.status,
                reason=previous.reason,
                chunk_ids=previous.chunk_ids,
                point_ids=previous.point_ids,
                updated_version=previous.updated_version,
            )
        if outcome.status == "quarantined":
            # The last good chunks of a document stay served; nothing is lost to a bad edit.
            return DocumentState(
                **base,
                content_sha256=outcome.content_sha256,
                status="quarantined",
                reason=outcome.reason,
                chunk_ids=previous.chunk_ids if previous else (),
                point_ids=previous.point_ids if previous else (),
                updated_version=previous.updated_version if previous else head_number,
            )
        live = dict(zip(previous.chunk_ids, previous.point_ids, strict=True)) if previous else {}
        points = [live.get(chunk.id) or point_id(chunk.id, next_number) for chunk in outcome.chunks]
        writer.add(
            [(c, p) for c, p in zip(outcome.chunks, points, strict=True) if c.id not in live],
            acl=document.acl,
        )
        kept = {chunk.id for chunk in outcome.chunks}
        writer.close([point for chunk, point in live.items() if chunk not in kept])
        return DocumentState(
            **base,
            content_sha256=outcome.content_sha256,
            status="indexed",
            reason=None,
            chunk_ids=tuple(chunk.id for chunk in outcome.chunks),
            point_ids=tuple(points),
            updated_version=-1,
        )


def _count_renames(
    counts: DocumentCounts,
    states: Sequence[DocumentState],
    known: dict[tuple[str, str], DocumentState],
    deleted: Sequence[tuple[str, str]],
) -> None:
    """A deleted document and a new one of the same source and content are one rename."""
    gone = {(known[key].source, known[key].content_sha256): key for key in deleted}
    for state in states:
        if (state.source, state.doc_id) in known or state.status != "indexed":
            continue
        if gone.pop((state.source, state.content_sha256), None) is not None:
            counts.renamed += 1
            counts.new -= 1
            counts.deleted -= 1


def _replace_version(state: DocumentState, number: int) -> DocumentState:
    """``state`` with the version that wrote it filled in (-1 marks "this sync's version")."""
    from dataclasses import replace

    return replace(
        state, updated_version=number if state.updated_version == -1 else state.updated_version
    )


class _NoDelta:
    """Stands in for the chunk store's writer when none is given."""

    def add(self, points: Sequence[PointRecord]) -> None: ...

    def close(self, ids: Sequence[str]) -> None: ...

    def commit(self) -> None: ...

    def discard(self) -> None: ...


class _PointWriter:
    """Buffers chunks, embeds them in batches and writes them as points of version ``number``."""

    def __init__(
        self,
        store: Any,
        generation: Generation,
        number: int,
        embedder: Any,
        progress: SyncProgress,
        timings: dict[str, float],
        cache: EmbeddingCache | None = None,
        delta: DeltaWriter | None = None,
    ) -> None:
        self.store = store
        self.cache = cache
        self.delta = delta or _NoDelta()
        self.collection = generation.collection
        self.number = number
        self.embedder = embedder
        self.progress = progress
        self.timings = timings
        self.pending: list[tuple[Chunk, str, tuple[str, ...]]] = []
        self.to_close: list[str] = []
        self.embedded = 0
        self.reused = 0
        self.written = 0
        self.closed = 0
        self._started_stages: set[str] = set()

    def add(self, chunks: Sequence[tuple[Chunk, str]], acl: tuple[str, ...] = ()) -> None:
        """Queue (chunk, point id) pairs to embed and write."""
        if not chunks:
            return
        self._grow("embed", len(chunks))
        self.pending.extend((chunk, point, acl) for chunk, point in chunks)
        if len(self.pending) >= _EMBED_BATCH:
            self._write_pending()

    def flush_embeddings(self) -> None:
        """Embed and write what is pending now, whatever its size."""
        self._write_pending()

    def close(self, point_ids: Sequence[str]) -> None:
        """Queue points to close at this version."""
        self.to_close.extend(point_ids)
        if len(self.to_close) >= _WRITE_BATCH:
            self._close_pending()

    def flush(self) -> None:
        self._write_pending()
        self._close_pending()

    def _grow(self, stage: str, amount: int) -> None:
        if stage not in self._started_stages:
            self._started_stages.add(stage)
            self.progress.start(stage, 0)
        self.progress.grow(stage, amount)

    def _write_pending(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        started = time.perf_counter()
        hashes = [chunk.text_sha256 for chunk, _, _ in batch]
        vectors = self.cache.get_many(hashes) if self.cache is not None else {}
        missing: dict[str, str] = {}
        for key, (chunk, _, _) in zip(hashes, batch, strict=True):
            if key not in vectors:
                missing.setdefault(key, chunk.text)  # identical texts in a batch: embed once
        if missing:
            fresh = dict(
                zip(missing, self.embedder.embed_documents(list(missing.values())), strict=True)
            )
            if self.cache is not None:
                self.cache.put_many(fresh)
            vectors.update(fresh)
        self.timings["embed"] += time.perf_counter() - started
        self.embedded += len(missing)
        self.reused += len(batch) - len(missing)
        self.progress.advance("embed", len(batch))
        started = time.perf_counter()
        points = [
            PointRecord(
                id=point,
                vector=vectors[key].tolist(),
                payload={
                    "chunk_id": chunk.id,
                    "doc_id": chunk.doc_id,
                    "source": chunk.source,
                    "ordinal": chunk.ordinal,
                    "text": chunk.text,
                    "metadata": chunk.metadata,
                    "acl": list(acl),
                    "text_sha256": key,
                    "v_from": self.number,
                    "v_to": OPEN,
                },
            )
            for (chunk, point, acl), key in zip(batch, hashes, strict=True)
        ]
        self._grow("write", len(points))
        for start in range(0, len(points), _WRITE_BATCH):
            part = points[start : start + _WRITE_BATCH]
            self.store.upsert(self.collection, part)
            self.delta.add(part)
            checkpoint("after_first_write")
            self.progress.advance("write", len(part))
        self.timings["write"] += time.perf_counter() - started
        self.written += len(points)

    def _close_pending(self) -> None:
        if not self.to_close:
            return
        ids, self.to_close = self.to_close, []
        started = time.perf_counter()
        self.store.set_v_to(self.collection, ids, self.number)
        self.delta.close(ids)
        checkpoint("after_close")
        self.timings["write"] += time.perf_counter() - started
        self.closed += len(ids)
