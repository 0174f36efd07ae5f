"""EdgeStore: the embedded, persistent vector store on qdrant-edge-py (Qdrant's Rust engine).

Layout of the data directory ``<path>``::

    <path>/.lock                      process lock (flock); holds the holder's PID and command
    <path>/aliases.json               {alias: collection}, replaced atomically
    <path>/collections/<name>/        one EdgeShard per collection (qdrant-edge's own files)

qdrant-edge has no collections or aliases (one shard per directory): this adapter provides them.
It also allows one process per shard directory (its WAL lock); ragops takes its own lock on the
whole data directory first, so a second process gets a :class:`~ragops.errors.StoreLockedError`
naming the holder and the remedy instead of a WAL traceback.

Search: collections are created with ``full_scan_threshold`` worth
:data:`~ragops.store.EXACT_SEARCH_BELOW` points, so Qdrant's planner searches exactly whenever the
filtered candidates in a segment are fewer; above that HNSW runs with ``hnsw_ef`` =
:data:`~ragops.store.DEFAULT_HNSW_EF`. HNSW graphs are built by :meth:`EdgeStore.optimize`
(blocking) once a segment exceeds qdrant's indexing threshold (10 MB of vectors by default).

Scores are "higher is closer": cosine similarity, dot product, or ``-distance`` for euclid.
Vectors of cosine collections come back normalized (Qdrant stores them so).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import qdrant_edge as qe

from ragops.errors import StoreError
from ragops.store.base import OPEN, Distance, PointRecord, ScoredPoint, SearchQuery
from ragops.store.common import (
    DEFAULT_HNSW_EF,
    EXACT_SEARCH_BELOW,
    as_float_list,
    check_dimension,
    check_distance,
    check_ids,
    check_name,
    score_from_qdrant,
    scored_points,
    trivial_query,
)
from ragops.store.edge_files import ProcessLock, read_aliases, write_aliases
from ragops.store.edge_query import branch_scores, fused_request, sparse_request
from ragops.store.edge_schema import edge_config, edge_filter, edge_vector, record
from ragops.store.edge_shards import COLLECTIONS_DIR, DAMAGE_REMEDY, EdgeShards
from ragops.store.groups import groups_by_overfetch

__all__ = ["EdgeStore"]

T = TypeVar("T")

_UPSERT_BATCH = 512


class EdgeStore:
    """The embedded vector store: one qdrant-edge shard per collection under ``path``.

    Opening takes an exclusive process lock on the directory (raises
    :class:`~ragops.errors.StoreLockedError` naming the holder when another process has it).
    Use as a context manager or call :meth:`close`.

    ``hnsw_ef``: ef of approximate searches. ``exact_search_below`` and ``hnsw_build_above``
    apply to collections created by this instance (see
    :func:`ragops.store.edge_schema.edge_config`).
    """

    #: Points per page of :meth:`scroll`.
    scroll_page_size: int = 256

    def __init__(
        self,
        path: str | Path,
        *,
        hnsw_ef: int = DEFAULT_HNSW_EF,
        exact_search_below: int = EXACT_SEARCH_BELOW,
        hnsw_build_above: int | None = None,
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.description = f"qdrant-edge ({self.path})"
        self.hnsw_ef = hnsw_ef
        self.exact_search_below = exact_search_below
        self.hnsw_build_above = hnsw_build_above
        self._closed = False
        try:
            (self.path / COLLECTIONS_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the embedded vector store directory {self.path}: {exc.strerror}. "
                "Fix: set store.path in ragops.yaml to a writable directory."
            ) from None
        self._lock = ProcessLock.acquire(self.path)
        self._shards = EdgeShards(self.path, self.description)

    # -- plumbing -------------------------------------------------------------------------

    def __enter__(self) -> EdgeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EdgeStore({str(self.path)!r}{', closed' if self._closed else ''})"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"{self.description} is closed. Fix: open a new store.")

    def _shard(self, name: str) -> qe.EdgeShard:
        """The open shard of collection ``name`` (loaded on first use)."""
        self._check_open()
        return self._shards.get(name)

    def _call(self, action: str, name: str | None, fn: Callable[..., T], *args: Any) -> T:
        return self._shards.call(action, name, fn, *args)

    def _check_vector(self, name: str, vector: Sequence[float]) -> list[float]:
        dimension = self._shards.params(name)[0]
        values = as_float_list(vector)
        if len(values) != dimension:
            raise StoreError(
                f"Vector of dimension {len(values)} does not fit collection {name!r} "
                f"(dimension {dimension}) in {self.description}. Fix: embed with the model the "
                "index was built with, or rebuild the index for the new model."
            )
        return values

    def _update(self, action: str, name: str, operation: qe.UpdateOperation) -> None:
        shard = self._shard(name)
        self._call(action, name, shard.update, operation)

    # -- collections ----------------------------------------------------------------------

    def create_collection(
        self, name: str, dimension: int, distance: Distance, *, sparse: bool = False
    ) -> None:
        """Create the collection (payload indexes on v_from, v_to, doc_id; with ``sparse`` the
        BM25 vector); idempotent.

        Raises StoreError when it exists with another dimension or distance.
        """
        self._check_open()
        check_dimension(dimension)
        check_distance(distance)
        config = edge_config(
            dimension, distance, self.exact_search_below, self.hnsw_build_above, sparse
        )
        self._shards.create(name, (dimension, distance), config, sparse)

    def has_sparse(self, name: str) -> bool:
        """True when the collection has the BM25 vector."""
        self._shard(name)
        return self._shards.has_sparse(name)

    def collection_exists(self, name: str) -> bool:
        self._check_open()
        return self._shards.exists(name)

    def drop_collection(self, name: str) -> None:
        """Delete the collection, its files and the aliases pointing at it."""
        self._check_open()
        self._shards.drop(name)

    def rename_collection(self, old: str, new: str) -> None:
        """Move collection ``old`` to the name ``new`` (its folder is renamed; aliases follow)."""
        self._check_open()
        self._shards.rename(old, new)

    def list_collections(self) -> list[str]:
        self._check_open()
        return self._shards.names()

    # -- writes ---------------------------------------------------------------------------

    def upsert(self, name: str, points: Sequence[PointRecord]) -> None:
        """Insert or replace points by id. Durable (written to the WAL) when it returns."""
        shard = self._shard(name)
        for start in range(0, len(points), _UPSERT_BATCH):
            batch = points[start : start + _UPSERT_BATCH]
            ids = check_ids([p.id for p in batch])
            edge_points = [
                qe.Point(
                    pid, edge_vector(self._check_vector(name, p.vector), p.sparse), dict(p.payload)
                )
                for pid, p in zip(ids, batch, strict=True)
            ]
            op = qe.UpdateOperation.upsert_points(edge_points)
            self._call("upsert points", name, shard.update, op)

    def set_v_to(self, name: str, ids: Sequence[str], v_to: int) -> None:
        """Set ``v_to`` of the given points (closing or reopening them). Missing ids are ignored."""
        if not ids:
            self._shard(name)
            return
        flt = qe.Filter(must=[qe.HasIdCondition(set(check_ids(ids)))])
        op = qe.UpdateOperation.set_payload_by_filter(flt, {"v_to": int(v_to)})
        self._update("set v_to", name, op)

    def delete(self, name: str, ids: Sequence[str]) -> None:
        """Delete points by id. Missing ids are ignored."""
        if not ids:
            self._shard(name)
            return
        point_ids: list[Any] = check_ids(ids)
        self._update("delete points", name, qe.UpdateOperation.delete_points(point_ids))

    def delete_closed(self, name: str, after: int | None, closed_by: int) -> int:
        """Delete points with ``v_to <= closed_by`` (and ``v_from > after``); count them."""
        must: list[Any] = [qe.FieldCondition("v_to", range=qe.RangeFloat(lte=float(closed_by)))]
        if after is not None:
            must.append(qe.FieldCondition("v_from", range=qe.RangeFloat(gt=float(after))))
        return self._delete_where(name, qe.Filter(must=must), "delete closed points")

    def _delete_where(self, name: str, flt: qe.Filter, action: str) -> int:
        """Delete the points ``flt`` matches; how many there were."""
        shard = self._shard(name)
        found = self._call(
            "count points", name, shard.count, qe.CountRequest(exact=True, filter=flt)
        )
        if found:
            self._update(action, name, qe.UpdateOperation.delete_points_by_filter(flt))
        return int(found)

    def rollback_uncommitted(self, name: str, head: int) -> int:
        """Delete points with ``v_from > head``, reopen points with ``head < v_to < OPEN``.

        Returns how many points it deleted plus how many it reopened.
        """
        shard = self._shard(name)
        newer = qe.Filter(must=[qe.FieldCondition("v_from", range=qe.RangeFloat(gt=float(head)))])
        closed_after = qe.Filter(
            must=[qe.FieldCondition("v_to", range=qe.RangeFloat(gt=float(head), lt=float(OPEN)))]
        )
        deleted = self._delete_where(name, newer, "delete uncommitted points")
        reopened = self._call(
            "count points", name, shard.count, qe.CountRequest(exact=True, filter=closed_after)
        )
        if reopened:
            self._update(
                "reopen closed points",
                name,
                qe.UpdateOperation.set_payload_by_filter(closed_after, {"v_to": OPEN}),
            )
        return deleted + reopened

    # -- reads ----------------------------------------------------------------------------

    def search(
        self,
        name: str,
        vector: Sequence[float],
        k: int,
        version: int,
        filters: Mapping[str, Any] | None = None,
        exact: bool = False,
    ) -> list[ScoredPoint]:
        """The ``k`` nearest points visible in ``version``, best first, with payloads.

        ``exact=False`` lets Qdrant's planner choose: exact below ``exact_search_below``
        candidates, HNSW with ``hnsw_ef`` above. ``exact=True`` always scans.
        """
        shard = self._shard(name)
        query = self._check_vector(name, vector)
        if k <= 0:
            return []
        params = (
            qe.SearchParams(exact=True) if exact else qe.SearchParams(hnsw_ef=max(self.hnsw_ef, k))
        )
        request = qe.QueryRequest(
            limit=k,
            query=qe.Query.Nearest(query),
            filter=edge_filter(version, filters),
            params=params,
            with_payload=True,
            with_vector=False,
        )
        hits = self._call("search", name, shard.query, request)
        distance = self._shards.params(name)[1]
        return [
            ScoredPoint(
                id=str(h.id),
                score=score_from_qdrant(h.score, distance),
                payload=dict(h.payload or {}),
            )
            for h in hits
        ]

    def query(
        self,
        name: str,
        request: SearchQuery,
        k: int,
        version: int,
        filters: Mapping[str, Any] | None = None,
    ) -> list[ScoredPoint]:
        """The ``k`` best points for a dense, sparse or hybrid query (see
        :mod:`ragops.store.edge_query`), with each branch's score."""
        shard = self._shard(name)
        if request.dense is not None:
            self._check_vector(name, request.dense)
        answered = trivial_query(self, name, request, k, version, filters)
        if answered is not None:
            return answered
        flt = edge_filter(version, filters)
        if request.mode == "sparse":
            hits = self._call("search", name, shard.query, sparse_request(request, k, flt))
            return scored_points(hits, {}, {str(h.id): h.score for h in hits})
        hits = self._call("search", name, shard.query, fused_request(request, k, flt, self.hnsw_ef))
        if not request.branch_scores:
            return scored_points(hits, {}, {})
        dense, sparse = self.score_branches(name, request, [str(h.id) for h in hits])
        return scored_points(hits, dense, sparse)

    def score_branches(
        self, name: str, request: SearchQuery, ids: Sequence[str]
    ) -> tuple[dict[str, float], dict[str, float]]:
        """Each point's dense and sparse score for the request (see
        :func:`~ragops.store.edge_query.branch_scores`)."""
        shard = self._shard(name)
        return branch_scores(
            shard, lambda fn, *a: self._call("score hits", name, fn, *a), request,
            check_ids(ids), self._shards.params(name)[1],
        )  # fmt: skip

    def search_groups(
        self,
        name: str,
        vector: Sequence[float],
        k: int,
        version: int,
        filters: Mapping[str, Any] | None = None,
        *,
        group_by: str = "doc_id",
        group_size: int = 1,
    ) -> list[list[ScoredPoint]]:
        """The ``k`` best groups (qdrant-edge has no groups API: see
        :func:`~ragops.store.groups.groups_by_overfetch`)."""
        if k <= 0:
            return []
        return groups_by_overfetch(
            lambda limit: self.search(name, vector, limit, version, filters),
            k, group_by, max(1, group_size),
        )  # fmt: skip

    def count(self, name: str, version: int | None = None) -> int:
        """Points visible in ``version``, or all points when ``version`` is None."""
        shard = self._shard(name)
        request = qe.CountRequest(exact=True, filter=edge_filter(version))
        return int(self._call("count points", name, shard.count, request))

    def scroll(
        self, name: str, version: int | None = None, with_vectors: bool = False
    ) -> Iterator[PointRecord]:
        """Every point (visible in ``version`` if given), in id order, fetched in pages."""
        shard = self._shard(name)
        flt = edge_filter(version)
        return self._scroll_pages(name, shard, flt, with_vectors)

    def _scroll_pages(
        self, name: str, shard: qe.EdgeShard, flt: qe.Filter | None, with_vectors: bool
    ) -> Iterator[PointRecord]:
        offset: Any = None
        while True:
            request = qe.ScrollRequest(
                offset=offset,
                limit=self.scroll_page_size,
                filter=flt,
                with_payload=True,
                with_vector=with_vectors,
            )
            records, offset = self._call("scroll points", name, shard.scroll, request)
            for rec in records:
                yield record(rec, with_vectors)
            if offset is None:
                return

    def retrieve(
        self, name: str, ids: Sequence[str], with_vectors: bool = False
    ) -> list[PointRecord]:
        """The points with these ids that exist (any version), in the order asked."""
        shard = self._shard(name)
        wanted = check_ids(ids)
        if not wanted:
            return []
        # qdrant-edge wants with_payload and with_vector positionally.
        found = self._call("retrieve points", name, shard.retrieve, wanted, True, with_vectors)
        by_id = {str(r.id): record(r, with_vectors) for r in found}
        return [by_id[i] for i in dict.fromkeys(wanted) if i in by_id]

    # -- aliases --------------------------------------------------------------------------

    def set_alias(self, alias: str, collection: str) -> None:
        """Point ``alias`` at an existing collection (recorded in aliases.json)."""
        self._check_open()
        check_name(alias, "alias")
        if not self.collection_exists(collection):
            raise StoreError(
                f"Cannot point alias {alias!r} at collection {collection!r}: no such collection "
                f"in {self.description}. Fix: create the collection first."
            )
        with self._shards.mutex:
            aliases = read_aliases(self.path)
            if aliases.get(alias) != collection:
                aliases[alias] = collection
                write_aliases(self.path, aliases)

    def get_alias(self, alias: str) -> str | None:
        """The collection ``alias`` points at, or None."""
        self._check_open()
        return read_aliases(self.path).get(alias)

    # -- maintenance ----------------------------------------------------------------------

    def optimize(self, name: str) -> None:
        """Merge segments and build HNSW graphs where big enough (blocks), then flush."""
        shard = self._shard(name)
        self._call("optimize", name, shard.optimize)
        self._call("flush", name, shard.flush)

    def close(self) -> None:
        """Flush and close every shard, then release the process lock. Idempotent."""
        with self._shards.mutex:
            if self._closed:
                return
            self._closed = True
            errors = self._shards.close_all()
            self._lock.release()
        if errors:
            raise StoreError(
                f"Closing {self.description} failed for {'; '.join(errors)}. Fix: {DAMAGE_REMEDY}."
            )
