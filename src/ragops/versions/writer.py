"""Writing a version's points: chunks embedded in batches (or taken from the embedding cache)
and upserted with ``v_from = N``; superseded points closed with ``v_to = N``.

Each chunk is embedded as its text with the context the spec asks for (title, heading path:
:func:`~ragops.chunks.context.embedding_text`), which also keys the embedding cache; its BM25
vector, when the spec has ``sparse``, is made from the same text.

Nothing here is visible to readers until the catalog commits version N. Before each write the
sync's lease is checked, so a process that lost its lock stops writing at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ragops._faults import checkpoint
from ragops.catalog import Generation
from ragops.chunks import Chunk
from ragops.chunks.context import embedding_text
from ragops.chunks.ids import text_hash
from ragops.store import OPEN, PointRecord

if TYPE_CHECKING:  # pragma: no cover
    from ragops.vectors import Embedder, EmbeddingCache
    from ragops.vectors.sparse import SparseEncoder
    from ragops.versions.chunk_store import DeltaWriter
    from ragops.versions.sync import SyncProgress

__all__ = ["PointWriter"]

#: Chunks embedded per model call at most, and at least when parsing is ahead of embedding.
#: When the parse thread has nothing ready, a smaller batch is embedded at once so the model
#: never waits for parsing (measured on hf-hub-docs: see benchmarks/bench_ingest.py).
EMBED_BATCH = 256
MIN_EMBED_BATCH = 32
_WRITE_BATCH = 512


class _NoDelta:
    """Stands in for the chunk store's writer when none is given."""

    def add(self, points: Sequence[PointRecord]) -> None: ...

    def close(self, ids: Sequence[str]) -> None: ...

    def commit(self) -> None: ...

    def discard(self) -> None: ...


class PointWriter:
    """Buffers chunks, embeds them in batches and writes them as points of version ``number``."""

    def __init__(
        self,
        store: Any,
        generation: Generation,
        number: int,
        embedder: Embedder,
        progress: SyncProgress,
        timings: dict[str, float],
        cache: EmbeddingCache | None = None,
        delta: DeltaWriter | None = None,
        check: Callable[[], None] = lambda: None,
        *,
        context: dict[str, bool] | None = None,
        sparse: SparseEncoder | None = None,
    ) -> None:
        self.store = store
        #: What is embedded with each chunk (the spec's ``context``; None: the text alone).
        self.context = context
        #: Makes the BM25 vectors (None: the generation is dense only).
        self.sparse = sparse
        #: Raises when the sync may no longer write (its lease was taken over).
        self.check = check
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
        if len(self.pending) >= EMBED_BATCH:
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
        texts = [embedding_text(chunk.text, chunk.metadata, self.context) for chunk, _, _ in batch]
        hashes = [
            chunk.text_sha256 if text is chunk.text else text_hash(text)
            for (chunk, _, _), text in zip(batch, texts, strict=True)
        ]
        vectors = self.cache.get_many(hashes) if self.cache is not None else {}
        missing: dict[str, str] = {}
        for key, text in zip(hashes, texts, strict=True):
            if key not in vectors:
                missing.setdefault(key, text)  # identical texts in a batch: embed once
        if missing:
            fresh = dict(
                zip(missing, self.embedder.embed_documents(list(missing.values())), strict=True)
            )
            if self.cache is not None:
                self.cache.put_many(fresh)
            vectors.update(fresh)
        sparse: list[Any] = [None] * len(batch)
        if self.sparse is not None:
            sparse_started = time.perf_counter()
            sparse = list(self.sparse.documents(texts))
            self.timings["sparse"] = self.timings.get("sparse", 0.0) + (
                time.perf_counter() - sparse_started
            )
        self.timings["embed"] += time.perf_counter() - started
        self.embedded += len(missing)
        self.reused += len(batch) - len(missing)
        self.progress.advance("embed", len(batch))
        started = time.perf_counter()
        points = [
            PointRecord(
                id=point,
                vector=vectors[key].tolist(),
                sparse=sparse_vector,
                payload={
                    "chunk_id": chunk.id,
                    "doc_id": chunk.doc_id,
                    "source": chunk.source,
                    "text": chunk.text,
                    "metadata": chunk.metadata,
                    "acl": list(acl),
                    "text_sha256": chunk.text_sha256,
                    "v_from": self.number,
                    "v_to": OPEN,
                },
            )
            for (chunk, point, acl), key, sparse_vector in zip(batch, hashes, sparse, strict=True)
        ]
        self._grow("write", len(points))
        for start in range(0, len(points), _WRITE_BATCH):
            part = points[start : start + _WRITE_BATCH]
            self.check()
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
        self.check()
        self.store.set_v_to(self.collection, ids, self.number)
        self.delta.close(ids)
        checkpoint("after_close")
        self.timings["write"] += time.perf_counter() - started
        self.closed += len(ids)
