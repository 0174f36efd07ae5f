"""The vector store port: what the index lifecycle needs from Qdrant, and nothing more.

Two adapters implement it: :class:`ragops.store.edge.EdgeStore` (qdrant-edge-py, embedded,
persistent, the default) and :class:`ragops.store.client.ClientStore` (qdrant-client, for a server
URL or ``:memory:``). Both pass ``tests/store/test_contract.py``.

Versioning is MVCC: every point carries integer payload fields ``v_from`` and ``v_to``; the point
belongs to index version ``N`` when ``v_from <= N < v_to``. A point that is still live has
``v_to == OPEN``. The store knows nothing of parsing, documents or Dagster.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "OPEN",
    "SPARSE_VECTOR",
    "Distance",
    "Fusion",
    "PointRecord",
    "ScoredPoint",
    "SearchQuery",
    "SparseVector",
    "VectorStore",
]

#: ``v_to`` of a point that no version has superseded yet (fits a signed 64-bit payload integer).
OPEN: int = 2**62

#: The name of the sparse (BM25) vector beside each point's unnamed dense vector.
SPARSE_VECTOR = "bm25"

Distance = Literal["cosine", "dot", "euclid"]
Fusion = Literal["rrf", "dbsf"]


@dataclass(frozen=True, slots=True)
class SparseVector:
    """A sparse vector: token ids and their weights (BM25 term weights for documents, 1.0 per
    query token). Collections created with ``sparse=True`` weigh it by IDF at search time."""

    indices: tuple[int, ...]
    values: tuple[float, ...]

    def __bool__(self) -> bool:
        return bool(self.indices)


@dataclass(frozen=True, slots=True)
class PointRecord:
    """One chunk as stored: a UUID string id, its vector and its payload.

    ``payload`` always holds ``v_from`` and ``v_to`` (ints) besides ``doc_id``, ``chunk_id``,
    ``text`` and ``metadata``.
    """

    id: str
    vector: Sequence[float]
    payload: Mapping[str, Any]
    #: The point's BM25 vector, written to collections created with ``sparse=True``.
    sparse: SparseVector | None = None


@dataclass(frozen=True, slots=True)
class ScoredPoint:
    """A search result: point id, score (higher is closer) and payload.

    From :meth:`VectorStore.query`, ``score`` is the dense similarity, the BM25 score or the
    fused score (by the query's mode), and ``dense_score`` / ``sparse_score`` are the point's
    score in each branch (None: the branch did not run, or the point has no term of the query).
    """

    id: str
    score: float
    payload: Mapping[str, Any] = field(default_factory=dict)
    dense_score: float | None = None
    sparse_score: float | None = None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What :meth:`VectorStore.query` searches with: a dense vector, a sparse vector, or both
    (hybrid: each branch takes its ``prefetch`` best points under the same version and caller
    filters, and Qdrant fuses the two lists by ``fusion``; ``weights`` (dense, sparse) weigh
    the branches of RRF, whose constant is ``rrf_k``)."""

    dense: Sequence[float] | None = None
    sparse: SparseVector | None = None
    fusion: Fusion = "rrf"
    weights: tuple[float, float] = (1.0, 1.0)
    prefetch: int = 50
    rrf_k: int = 60
    #: Read each hybrid hit's dense and sparse score (one more small query batch); callers that
    #: keep only some hits turn it off and ask :meth:`VectorStore.score_branches` for those.
    branch_scores: bool = True

    @property
    def mode(self) -> str:
        """``dense``, ``sparse`` or ``hybrid``: which vectors the query has."""
        if self.dense is not None and self.sparse is not None:
            return "hybrid"
        return "dense" if self.dense is not None else "sparse"


@runtime_checkable
class VectorStore(Protocol):
    """Collections of versioned points.

    ``filters`` everywhere is a mapping of payload key to an exact value (str, int) or to a
    list of values (match any); keys may be dotted paths (``metadata.source``). Every method
    that takes ``version`` restricts to points with ``v_from <= version < v_to``.
    """

    #: Short name for messages, e.g. ``"qdrant-edge (/path/to/data)"``.
    description: str

    def create_collection(
        self, name: str, dimension: int, distance: Distance, *, sparse: bool = False
    ) -> None:
        """Create an empty collection with payload indexes on v_from, v_to and doc_id, and
        with ``sparse`` a sparse vector :data:`SPARSE_VECTOR` weighed by IDF.

        Does nothing when it exists with the same dimension and distance; raises StoreError
        when it exists with different ones.
        """

    def has_sparse(self, name: str) -> bool:
        """True when the collection was created with the sparse vector."""

    def collection_exists(self, name: str) -> bool: ...

    def drop_collection(self, name: str) -> None:
        """Delete the collection and its files. Does nothing when it does not exist."""

    def list_collections(self) -> list[str]: ...

    def rename_collection(self, old: str, new: str) -> None:
        """Give collection ``old`` the name ``new``, with its points and the aliases pointing
        at it. Raises StoreError when ``old`` does not exist."""

    def upsert(self, name: str, points: Sequence[PointRecord]) -> None:
        """Insert or replace points by id. Durable when it returns."""

    def set_v_to(self, name: str, ids: Sequence[str], v_to: int) -> None:
        """Set the payload field ``v_to`` of the given points (closing or reopening them)."""

    def delete(self, name: str, ids: Sequence[str]) -> None:
        """Delete points by id. Missing ids are ignored."""

    def delete_closed(self, name: str, after: int | None, closed_by: int) -> int:
        """Delete the points that live only between two versions: ``v_to <= closed_by`` and,
        when ``after`` is given, ``v_from > after``. Returns how many were deleted.

        Retention calls it for the versions it keeps: such points are invisible to all of them.
        """

    def rollback_uncommitted(self, name: str, head: int) -> int:
        """Undo a sync that died before committing version ``head + 1``.

        Deletes points with ``v_from > head`` and reopens (``v_to = OPEN``) points with
        ``head < v_to < OPEN``. Returns how many points it changed.
        """

    def search(
        self,
        name: str,
        vector: Sequence[float],
        k: int,
        version: int,
        filters: Mapping[str, Any] | None = None,
        exact: bool = False,
    ) -> list[ScoredPoint]:
        """The ``k`` nearest points visible in ``version``, best first, with payloads."""

    def query(
        self,
        name: str,
        request: SearchQuery,
        k: int,
        version: int,
        filters: Mapping[str, Any] | None = None,
    ) -> list[ScoredPoint]:
        """The ``k`` best points visible in ``version`` for a dense, sparse or hybrid query,
        best first, with payloads and each branch's score. The version and the caller's
        filters apply inside every branch."""

    def score_branches(
        self, name: str, request: SearchQuery, ids: Sequence[str]
    ) -> tuple[dict[str, float], dict[str, float]]:
        """The dense and the sparse score of each of the points ``ids`` for the request's
        vectors (a point with no term of the query has no sparse score)."""

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
        """The ``k`` best groups of points visible in ``version`` that share the payload field
        ``group_by``, each with its best ``group_size`` points, best group first (see
        :mod:`ragops.store.groups`)."""

    def count(self, name: str, version: int | None = None) -> int:
        """Points visible in ``version``, or all points when ``version`` is None."""

    def scroll(
        self, name: str, version: int | None = None, with_vectors: bool = False
    ) -> Iterator[PointRecord]:
        """Every point (visible in ``version`` if given), in pages; vectors empty unless asked."""

    def retrieve(
        self, name: str, ids: Sequence[str], with_vectors: bool = False
    ) -> list[PointRecord]:
        """The points with these ids that exist (any version)."""

    def set_alias(self, alias: str, collection: str) -> None:
        """Point the alias at the collection (server adapter); the embedded adapter records it."""

    def get_alias(self, alias: str) -> str | None: ...

    def optimize(self, name: str) -> None:
        """Build search indexes after a bulk write (may block). Optional speed-up."""

    def close(self) -> None:
        """Release files and locks. The store is unusable afterwards."""
