"""ClientStore: the vector store on qdrant-client — a Qdrant server, or ``:memory:`` in tests.

``location`` is a server URL (``http://localhost:6333``; several processes may read and write at
once, the remedy for the embedded store's one-process lock), ``":memory:"`` (qdrant-client's
in-process Python engine; brute-force search, nothing persisted) or a local directory
(qdrant-client's local mode: brute force, slow to reopen, one process at a time; prefer
:class:`ragops.store.edge.EdgeStore` for embedded use).

Aliases are real Qdrant collection aliases, so raw Qdrant users find the production generation
under the index name. Scores are "higher is closer": cosine similarity, dot product, or
``-distance`` for euclid (Qdrant itself returns the euclid distance, lower is closer).
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from qdrant_client import models as qm

from ragops.errors import StoreError
from ragops.store.base import OPEN, SPARSE_VECTOR, Distance, PointRecord
from ragops.store.client_query import client_sparse
from ragops.store.client_reads import ClientReads
from ragops.store.client_schema import (
    DISTANCES,
    INDEX_SCHEMAS,
    QdrantConnection,
)
from ragops.store.common import (
    DEFAULT_HNSW_EF,
    EXACT_SEARCH_BELOW,
    INDEXED_FIELDS,
    check_dimension,
    check_distance,
    check_ids,
    check_name,
)

__all__ = ["ClientStore"]

T = TypeVar("T")

_UPSERT_BATCH = 256
_OPTIMIZE_TIMEOUT_S = 600.0


class ClientStore(ClientReads):
    """Collections of versioned points in Qdrant through qdrant-client.

    ``location``: ``http(s)://…`` server URL, ``":memory:"``, or a local directory.
    ``api_key``: for Qdrant Cloud or a server with an API key. ``hnsw_ef``: ef of approximate
    searches; ``exact_search_below``: ``full_scan_threshold`` of collections this store creates
    on a server (searches over fewer candidate points are exact).
    """

    #: Points per page of :meth:`scroll`.
    scroll_page_size: int = 256

    def __init__(
        self,
        location: str,
        api_key: str | None = None,
        *,
        hnsw_ef: int = DEFAULT_HNSW_EF,
        exact_search_below: int = EXACT_SEARCH_BELOW,
        timeout: int | None = None,
    ) -> None:
        self.hnsw_ef = hnsw_ef
        self.exact_search_below = exact_search_below
        self._closed = False
        self._conn = QdrantConnection(location, api_key, timeout)
        self.location = location
        self.description = self._conn.description
        self._client = self._conn.client
        self._is_server = self._conn.is_server

    # -- plumbing -------------------------------------------------------------------------

    def __enter__(self) -> ClientStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ClientStore({self.location!r}{', closed' if self._closed else ''})"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"{self.description} is closed. Fix: open a new store.")

    def _call(
        self, action: str, name: str | None, fn: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        """Run a qdrant-client call, turning its exceptions into StoreError with what/where/fix."""
        self._check_open()
        return self._conn.call(action, name, fn, *args, **kwargs)

    def _require(self, name: str) -> tuple[int, str]:
        """(dimension, distance) of an existing collection; StoreError when it does not exist."""
        self._check_open()
        return self._conn.require(name)

    # -- collections ----------------------------------------------------------------------

    def create_collection(
        self, name: str, dimension: int, distance: Distance, *, sparse: bool = False
    ) -> None:
        """Create the collection (payload indexes on v_from, v_to, doc_id; with ``sparse`` the
        BM25 vector, weighed by IDF); idempotent.

        Raises StoreError when it exists with another dimension or distance.
        """
        check_name(name)
        check_dimension(dimension)
        check_distance(distance)
        if not self.collection_exists(name):
            try:
                self._client.create_collection(
                    name,
                    vectors_config=qm.VectorParams(size=dimension, distance=DISTANCES[distance]),
                    sparse_vectors_config=(
                        {SPARSE_VECTOR: qm.SparseVectorParams(modifier=qm.Modifier.IDF)}
                        if sparse
                        else None
                    ),
                    hnsw_config=qm.HnswConfigDiff(
                        full_scan_threshold=max(
                            1, -(-self.exact_search_below * dimension * 4 // 1024)
                        )
                    ),
                )
            except Exception as exc:  # lost a race with another creator: check what exists
                if not self.collection_exists(name):
                    raise StoreError(
                        f"Qdrant could not create collection {name!r} on {self.description}: "
                        f"{exc}. Fix: {self._conn.fix()}."
                    ) from exc
        have = self._require(name)
        if have != (dimension, distance):
            raise StoreError(
                f"Collection {name!r} on {self.description} exists with dimension {have[0]} and "
                f"distance {have[1]}, not {dimension} and {distance}. Fix: use a new collection "
                "name for a different embedding model (ragops derives it from the index spec "
                "fingerprint), or drop this one."
            )
        if sparse and not self.has_sparse(name):
            raise StoreError(
                f"Collection {name!r} on {self.description} has no sparse vector "
                f"{SPARSE_VECTOR!r}. Fix: use a new collection name (ragops derives it from the "
                "index spec fingerprint, which includes the sparse settings)."
            )
        self._ensure_indexes(name)

    def has_sparse(self, name: str) -> bool:
        """True when the collection has the BM25 vector."""
        self._require(name)
        return self._conn.has_sparse(name)

    def _ensure_indexes(self, name: str) -> None:
        if not self._is_server:
            return  # qdrant-client's local engine ignores payload indexes (and warns)
        info = self._call("read the collection", name, self._client.get_collection, name)
        for field, kind in INDEXED_FIELDS.items():
            if field not in (info.payload_schema or {}):
                self._call(
                    f"create the payload index on {field}",
                    name,
                    self._client.create_payload_index,
                    name,
                    field,
                    INDEX_SCHEMAS[kind],
                    wait=True,
                )

    def collection_exists(self, name: str) -> bool:
        check_name(name)
        return bool(self._call("check the collection", name, self._client.collection_exists, name))

    def drop_collection(self, name: str) -> None:
        """Delete the collection (Qdrant also removes aliases pointing at it)."""
        check_name(name)
        self._conn.params.pop(name, None)
        if self.collection_exists(name):
            self._call("delete the collection", name, self._client.delete_collection, name)

    def list_collections(self) -> list[str]:
        response = self._call("list collections", None, self._client.get_collections)
        return sorted(c.name for c in response.collections)

    def rename_collection(self, old: str, new: str) -> None:
        """Copy ``old`` into a new collection ``new`` (points, vectors, payload indexes, the
        aliases pointing at it), then drop ``old``. Qdrant cannot rename in place; a copy
        interrupted half way is finished by calling this again (``new`` is emptied first)."""
        dimension, distance = self._require(old)
        check_name(new)
        self.drop_collection(new)
        self.create_collection(
            new, dimension, cast(Distance, distance), sparse=self.has_sparse(old)
        )
        page: list[PointRecord] = []
        for point in self.scroll(old, with_vectors=True):
            page.append(point)
            if len(page) >= _UPSERT_BATCH:
                self.upsert(new, page)
                page = []
        self.upsert(new, page)
        response = self._call("list aliases", None, self._client.get_aliases)
        for desc in response.aliases:
            if desc.collection_name == old:
                self.set_alias(str(desc.alias_name), new)
        self.drop_collection(old)

    # -- writes ---------------------------------------------------------------------------

    def upsert(self, name: str, points: Sequence[PointRecord]) -> None:
        """Insert or replace points by id; waits until Qdrant has applied them."""
        self._require(name)
        for start in range(0, len(points), _UPSERT_BATCH):
            batch = points[start : start + _UPSERT_BATCH]
            ids = check_ids([p.id for p in batch])
            structs = [
                qm.PointStruct(id=pid, vector=self._vectors(name, p), payload=dict(p.payload))
                for pid, p in zip(ids, batch, strict=True)
            ]
            self._call("upsert points", name, self._client.upsert, name, structs, wait=True)

    def _vectors(self, name: str, point: PointRecord) -> Any:
        dense = self._conn.check_vector(name, point.vector)
        if point.sparse is None:
            return dense
        return {"": dense, SPARSE_VECTOR: client_sparse(point.sparse)}

    def set_v_to(self, name: str, ids: Sequence[str], v_to: int) -> None:
        """Set ``v_to`` of the given points (closing or reopening them). Missing ids are ignored."""
        self._require(name)
        if not ids:
            return
        point_ids: list[Any] = check_ids(ids)
        selector = qm.Filter(must=[qm.HasIdCondition(has_id=point_ids)])
        self._call(
            "set v_to",
            name,
            self._client.set_payload,
            name,
            {"v_to": int(v_to)},
            selector,
            wait=True,
        )

    def delete(self, name: str, ids: Sequence[str]) -> None:
        """Delete points by id. Missing ids are ignored."""
        self._require(name)
        if not ids:
            return
        point_ids: list[Any] = check_ids(ids)
        selector = qm.PointIdsList(points=point_ids)
        self._call("delete points", name, self._client.delete, name, selector, wait=True)

    def delete_closed(self, name: str, after: int | None, closed_by: int) -> int:
        """Delete points with ``v_to <= closed_by`` (and ``v_from > after``); count them."""
        self._require(name)
        must: list[Any] = [qm.FieldCondition(key="v_to", range=qm.Range(lte=closed_by))]
        if after is not None:
            must.append(qm.FieldCondition(key="v_from", range=qm.Range(gt=after)))
        return self._delete_where(name, qm.Filter(must=must), "delete closed points")

    def _delete_where(self, name: str, flt: qm.Filter, action: str) -> int:
        """Delete the points ``flt`` matches; how many there were."""
        found = self._count(name, flt)
        if found:
            selector = qm.FilterSelector(filter=flt)
            self._call(action, name, self._client.delete, name, selector, wait=True)
        return found

    def rollback_uncommitted(self, name: str, head: int) -> int:
        """Delete points with ``v_from > head``, reopen points with ``head < v_to < OPEN``.

        Returns how many points it deleted plus how many it reopened.
        """
        self._require(name)
        newer = qm.Filter(must=[qm.FieldCondition(key="v_from", range=qm.Range(gt=head))])
        closed_after = qm.Filter(
            must=[qm.FieldCondition(key="v_to", range=qm.Range(gt=head, lt=OPEN))]
        )
        deleted = self._delete_where(name, newer, "delete uncommitted points")
        reopened = self._count(name, closed_after)
        if reopened:
            self._call(
                "reopen closed points",
                name,
                self._client.set_payload,
                name,
                {"v_to": OPEN},
                closed_after,
                wait=True,
            )
        return deleted + reopened

    # -- aliases --------------------------------------------------------------------------

    def set_alias(self, alias: str, collection: str) -> None:
        """Point the Qdrant alias at ``collection`` (switched atomically if it exists)."""
        check_name(alias, "alias")
        self._require(collection)
        current = self.get_alias(alias)
        if current == collection:
            return
        ops: list[Any] = []
        if current is not None:
            ops.append(qm.DeleteAliasOperation(delete_alias=qm.DeleteAlias(alias_name=alias)))
        ops.append(
            qm.CreateAliasOperation(
                create_alias=qm.CreateAlias(collection_name=collection, alias_name=alias)
            )
        )
        self._call(
            "set the alias",
            collection,
            self._client.update_collection_aliases,
            change_aliases_operations=ops,
        )

    def get_alias(self, alias: str) -> str | None:
        """The collection ``alias`` points at, or None."""
        response = self._call("list aliases", None, self._client.get_aliases)
        for desc in response.aliases:
            if desc.alias_name == alias:
                return str(desc.collection_name)
        return None

    # -- maintenance ----------------------------------------------------------------------

    def optimize(self, name: str) -> None:
        """On a server, wait (up to 10 min) until the optimizers finish; local modes: no-op."""
        self._require(name)
        if not self._is_server:
            return
        deadline = time.monotonic() + _OPTIMIZE_TIMEOUT_S
        while time.monotonic() < deadline:
            info = self._call("read the collection", name, self._client.get_collection, name)
            if info.status == qm.CollectionStatus.GREEN:
                return
            time.sleep(0.5)

    def close(self) -> None:
        """Close the client. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._client.close()
