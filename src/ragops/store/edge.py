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

import json
import math
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import qdrant_edge as qe

from ragops.errors import StoreError, StoreLockedError
from ragops.store.base import OPEN, Distance, PointRecord, ScoredPoint
from ragops.store.common import (
    DEFAULT_HNSW_EF,
    EXACT_SEARCH_BELOW,
    INDEXED_FIELDS,
    as_float_list,
    check_dimension,
    check_distance,
    check_ids,
    check_name,
    normalize_filters,
    score_from_qdrant,
)
from ragops.store.edge_files import LOCK_REMEDY, ProcessLock, read_aliases, write_aliases

__all__ = ["EdgeStore", "edge_config"]

T = TypeVar("T")

COLLECTIONS_DIR = "collections"
SHARD_CONFIG_FILE = "edge_config.json"  # written by qdrant-edge; its presence marks a collection

DAMAGE_REMEDY = (
    "check that the disk is not full and the directory is writable; if the collection's files "
    "are damaged, drop the collection and rebuild it from the chunk store"
)

_DISTANCES: dict[str, qe.Distance] = {
    "cosine": qe.Distance.Cosine,
    "dot": qe.Distance.Dot,
    "euclid": qe.Distance.Euclid,
}
_INDEX_SCHEMAS: dict[str, qe.PayloadSchemaType] = {
    "integer": qe.PayloadSchemaType.Integer,
    "keyword": qe.PayloadSchemaType.Keyword,
}
_UPSERT_BATCH = 512


def _points_to_kb(points: int, dimension: int) -> int:
    """Qdrant sizes thresholds in KB of float32 vectors; convert a point count (at least 1)."""
    return max(1, math.ceil(points * dimension * 4 / 1024))


def edge_config(
    dimension: int,
    distance: Distance,
    exact_search_below: int = EXACT_SEARCH_BELOW,
    hnsw_build_above: int | None = None,
) -> qe.EdgeConfig:
    """The qdrant-edge shard configuration ragops creates collections with.

    ``exact_search_below`` becomes HNSW ``full_scan_threshold`` (searches over fewer candidate
    points are exact). ``hnsw_build_above`` (points per segment) sets the optimizer's indexing
    threshold; None keeps qdrant's default (10 MB of vectors, ~6.7k points at 384-d).
    m=16 and ef_construct=100 are Qdrant's defaults.
    """
    optimizers = None
    if hnsw_build_above is not None:
        optimizers = qe.EdgeOptimizersConfig(
            indexing_threshold=_points_to_kb(hnsw_build_above, dimension)
        )
    return qe.EdgeConfig(
        vectors=qe.EdgeVectorParams(size=dimension, distance=_DISTANCES[distance]),
        hnsw_config=qe.HnswIndexConfig(
            m=16,
            ef_construct=100,
            full_scan_threshold=_points_to_kb(exact_search_below, dimension),
        ),
        optimizers=optimizers,
    )


# --------------------------------------------------------------------------------------------
# Filters and conversions
# --------------------------------------------------------------------------------------------


def _version_conditions(version: int) -> list[qe.FieldCondition]:
    """``v_from <= version < v_to`` (payload-indexed integer ranges)."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise StoreError(f"Invalid version {version!r}: it must be an int.")
    return [
        qe.FieldCondition("v_from", range=qe.RangeFloat(lte=float(version))),
        qe.FieldCondition("v_to", range=qe.RangeFloat(gt=float(version))),
    ]


def _edge_filter(version: int | None, filters: Mapping[str, Any] | None = None) -> qe.Filter | None:
    must: list[Any] = [] if version is None else _version_conditions(version)
    for key, value in normalize_filters(filters):
        match = qe.MatchAny(value) if isinstance(value, list) else qe.MatchValue(value)
        must.append(qe.FieldCondition(key, match=match))
    return qe.Filter(must=must) if must else None


def _record(rec: Any, with_vectors: bool) -> PointRecord:
    vector: Sequence[float] = []
    if with_vectors and rec.vector is not None:
        vector = list(rec.vector)
    return PointRecord(id=str(rec.id), vector=vector, payload=dict(rec.payload or {}))


# --------------------------------------------------------------------------------------------
# The adapter
# --------------------------------------------------------------------------------------------


class EdgeStore:
    """The embedded vector store: one qdrant-edge shard per collection under ``path``.

    Opening takes an exclusive process lock on the directory (raises
    :class:`~ragops.errors.StoreLockedError` naming the holder when another process has it).
    Use as a context manager or call :meth:`close`.

    ``hnsw_ef``: ef of approximate searches. ``exact_search_below`` and ``hnsw_build_above``
    apply to collections created by this instance (see :func:`edge_config`).
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
        self._mutex = threading.RLock()
        self._shards: dict[str, qe.EdgeShard] = {}
        self._params: dict[str, tuple[int, str]] = {}
        self._closed = False
        try:
            (self.path / COLLECTIONS_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the embedded vector store directory {self.path}: {exc.strerror}. "
                "Fix: set store.path in ragops.yaml to a writable directory."
            ) from None
        self._lock = ProcessLock.acquire(self.path)

    # -- plumbing -------------------------------------------------------------------------

    def __enter__(self) -> EdgeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EdgeStore({str(self.path)!r}{', closed' if self._closed else ''})"

    def _dir(self, name: str) -> Path:
        return self.path / COLLECTIONS_DIR / check_name(name)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"{self.description} is closed. Fix: open a new store.")

    def _call(self, action: str, name: str | None, fn: Callable[..., T], *args: Any) -> T:
        """Run a qdrant-edge call, turning its exceptions into StoreError with what/where/fix."""
        try:
            return fn(*args)
        except StoreError:
            raise
        except Exception as exc:  # qdrant-edge raises bare Exception/ValueError/TypeError
            where = f"collection {name!r} in {self.path}" if name else str(self.path)
            text = str(exc)
            if "WouldBlock" in text or "Can't init WAL" in text:
                raise StoreLockedError(
                    f"The embedded vector store at {self.path} ({where}) is in use by another "
                    f"process (qdrant-edge WAL lock). Fix: {LOCK_REMEDY}."
                ) from None
            raise StoreError(
                f"qdrant-edge could not {action} ({where}): {text}. Fix: {DAMAGE_REMEDY}."
            ) from exc

    def _shard(self, name: str) -> qe.EdgeShard:
        """The open shard of collection ``name`` (loaded on first use)."""
        self._check_open()
        with self._mutex:
            shard = self._shards.get(name)
            if shard is None:
                directory = self._dir(name)
                if not (directory / SHARD_CONFIG_FILE).is_file():
                    raise StoreError(
                        f"Collection {name!r} does not exist in {self.description}. "
                        "Fix: create it first (a sync creates its collection), or check the "
                        "index name."
                    )
                shard = self._call("open the collection", name, qe.EdgeShard.load, str(directory))
                self._shards[name] = shard
            return shard

    def _collection_params(self, name: str) -> tuple[int, str]:
        """(dimension, distance) of an existing collection, from qdrant-edge's config file."""
        cached = self._params.get(name)
        if cached is not None:
            return cached
        config_path = self._dir(name) / SHARD_CONFIG_FILE
        try:
            vectors = json.loads(config_path.read_text(encoding="utf-8"))["vectors"][""]
            params = (int(vectors["size"]), str(vectors["distance"]).lower())
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"Cannot read the vector settings of collection {name!r} from {config_path}: "
                f"{exc}. Fix: {DAMAGE_REMEDY}."
            ) from None
        self._params[name] = params
        return params

    def _check_vector(self, name: str, vector: Sequence[float]) -> list[float]:
        dimension = self._collection_params(name)[0]
        values = as_float_list(vector)
        if len(values) != dimension:
            raise StoreError(
                f"Vector of dimension {len(values)} does not fit collection {name!r} "
                f"(dimension {dimension}) in {self.description}. Fix: embed with the model the "
                "index was built with, or rebuild the index for the new model."
            )
        return values

    def _ensure_indexes(self, name: str, shard: qe.EdgeShard) -> None:
        existing = self._call("read the collection info", name, shard.info).payload_schema
        for field, kind in INDEXED_FIELDS.items():
            if field not in existing:
                op = qe.UpdateOperation.create_field_index(field, _INDEX_SCHEMAS[kind])
                self._call(f"create the payload index on {field}", name, shard.update, op)

    def _update(self, action: str, name: str, operation: qe.UpdateOperation) -> None:
        shard = self._shard(name)
        self._call(action, name, shard.update, operation)

    # -- collections ----------------------------------------------------------------------

    def create_collection(self, name: str, dimension: int, distance: Distance) -> None:
        """Create the collection (payload indexes on v_from, v_to, doc_id); idempotent.

        Raises StoreError when it exists with another dimension or distance.
        """
        self._check_open()
        check_dimension(dimension)
        check_distance(distance)
        with self._mutex:
            directory = self._dir(name)
            if (directory / SHARD_CONFIG_FILE).is_file():
                have = self._collection_params(name)
                if have != (dimension, distance):
                    raise StoreError(
                        f"Collection {name!r} in {self.description} exists with dimension "
                        f"{have[0]} and distance {have[1]}, not {dimension} and {distance}. "
                        "Fix: use a new collection name for a different embedding model "
                        "(ragops derives it from the index spec fingerprint), or drop this one."
                    )
                self._ensure_indexes(name, self._shard(name))
                return
            if directory.exists():  # left over by a create that died before qdrant-edge wrote
                shutil.rmtree(directory)
            config = edge_config(
                dimension, distance, self.exact_search_below, self.hnsw_build_above
            )
            shard = self._call(
                "create the collection", name, qe.EdgeShard.create, str(directory), config
            )
            self._shards[name] = shard
            self._params[name] = (dimension, distance)
            self._ensure_indexes(name, shard)

    def collection_exists(self, name: str) -> bool:
        self._check_open()
        return (self._dir(name) / SHARD_CONFIG_FILE).is_file()

    def drop_collection(self, name: str) -> None:
        """Delete the collection, its files and the aliases pointing at it."""
        self._check_open()
        with self._mutex:
            directory = self._dir(name)
            shard = self._shards.pop(name, None)
            self._params.pop(name, None)
            if shard is not None:
                self._call("close the collection", name, shard.close)
            if directory.exists():
                try:
                    shutil.rmtree(directory)
                except OSError as exc:
                    raise StoreError(
                        f"Cannot delete collection {name!r} at {directory}: {exc}. "
                        "Fix: check the directory's permissions and delete it by hand."
                    ) from None
            aliases = read_aliases(self.path)
            kept = {a: c for a, c in aliases.items() if c != name}
            if kept != aliases:
                write_aliases(self.path, kept)

    def rename_collection(self, old: str, new: str) -> None:
        """Move collection ``old`` to the name ``new`` (its folder is renamed; aliases follow)."""
        self._check_open()
        with self._mutex:
            source, target = self._dir(old), self._dir(new)
            if not (source / SHARD_CONFIG_FILE).is_file():
                raise StoreError(
                    f"Cannot rename collection {old!r}: it does not exist in {self.description}."
                )
            if target.exists():
                raise StoreError(
                    f"Cannot rename collection {old!r} to {new!r}: {target} exists. Fix: drop "
                    "the collection of that name first."
                )
            shard = self._shards.pop(old, None)
            self._params.pop(old, None)
            if shard is not None:
                self._call("flush the collection", old, shard.flush)
                self._call("close the collection", old, shard.close)
            os.replace(source, target)
            aliases = read_aliases(self.path)
            moved = {a: (new if c == old else c) for a, c in aliases.items()}
            if moved != aliases:
                write_aliases(self.path, moved)

    def list_collections(self) -> list[str]:
        self._check_open()
        root = self.path / COLLECTIONS_DIR
        return sorted(
            entry.name
            for entry in root.iterdir()
            if entry.is_dir() and (entry / SHARD_CONFIG_FILE).is_file()
        )

    # -- writes ---------------------------------------------------------------------------

    def upsert(self, name: str, points: Sequence[PointRecord]) -> None:
        """Insert or replace points by id. Durable (written to the WAL) when it returns."""
        shard = self._shard(name)
        for start in range(0, len(points), _UPSERT_BATCH):
            batch = points[start : start + _UPSERT_BATCH]
            ids = check_ids([p.id for p in batch])
            edge_points = [
                qe.Point(pid, self._check_vector(name, p.vector), dict(p.payload))
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
        shard = self._shard(name)
        must: list[Any] = [qe.FieldCondition("v_to", range=qe.RangeFloat(lte=float(closed_by)))]
        if after is not None:
            must.append(qe.FieldCondition("v_from", range=qe.RangeFloat(gt=float(after))))
        flt = qe.Filter(must=must)
        found = self._call(
            "count points", name, shard.count, qe.CountRequest(exact=True, filter=flt)
        )
        if found:
            self._update(
                "delete closed points", name, qe.UpdateOperation.delete_points_by_filter(flt)
            )
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
        deleted = self._call(
            "count points", name, shard.count, qe.CountRequest(exact=True, filter=newer)
        )
        if deleted:
            self._update(
                "delete uncommitted points", name, qe.UpdateOperation.delete_points_by_filter(newer)
            )
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
            filter=_edge_filter(version, filters),
            params=params,
            with_payload=True,
            with_vector=False,
        )
        hits = self._call("search", name, shard.query, request)
        distance = self._collection_params(name)[1]
        return [
            ScoredPoint(
                id=str(h.id),
                score=score_from_qdrant(h.score, distance),
                payload=dict(h.payload or {}),
            )
            for h in hits
        ]

    def count(self, name: str, version: int | None = None) -> int:
        """Points visible in ``version``, or all points when ``version`` is None."""
        shard = self._shard(name)
        request = qe.CountRequest(exact=True, filter=_edge_filter(version))
        return int(self._call("count points", name, shard.count, request))

    def scroll(
        self, name: str, version: int | None = None, with_vectors: bool = False
    ) -> Iterator[PointRecord]:
        """Every point (visible in ``version`` if given), in id order, fetched in pages."""
        shard = self._shard(name)
        flt = _edge_filter(version)
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
                yield _record(rec, with_vectors)
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
        by_id = {str(r.id): _record(r, with_vectors) for r in found}
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
        with self._mutex:
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
        with self._mutex:
            if self._closed:
                return
            self._closed = True
            errors: list[str] = []
            for name, shard in self._shards.items():
                try:
                    shard.flush()
                    shard.close()
                except Exception as exc:  # keep closing the others, then report
                    errors.append(f"{name}: {exc}")
            self._shards.clear()
            self._lock.release()
        if errors:
            raise StoreError(
                f"Closing {self.description} failed for {'; '.join(errors)}. Fix: {DAMAGE_REMEDY}."
            )
