"""How ragops' collections, filters and points look in qdrant-edge's own terms."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import qdrant_edge as qe

from ragops.errors import StoreError
from ragops.store.base import SPARSE_VECTOR, Distance, PointRecord, SparseVector
from ragops.store.common import EXACT_SEARCH_BELOW, normalize_filters, unpack_vectors

__all__ = [
    "DISTANCES",
    "INDEX_SCHEMAS",
    "edge_config",
    "edge_filter",
    "edge_sparse",
    "edge_vector",
    "record",
    "version_conditions",
]

DISTANCES: dict[str, qe.Distance] = {
    "cosine": qe.Distance.Cosine,
    "dot": qe.Distance.Dot,
    "euclid": qe.Distance.Euclid,
}
INDEX_SCHEMAS: dict[str, qe.PayloadSchemaType] = {
    "integer": qe.PayloadSchemaType.Integer,
    "keyword": qe.PayloadSchemaType.Keyword,
}


def _points_to_kb(points: int, dimension: int) -> int:
    """Qdrant sizes thresholds in KB of float32 vectors; convert a point count (at least 1)."""
    return max(1, math.ceil(points * dimension * 4 / 1024))


def edge_config(
    dimension: int,
    distance: Distance,
    exact_search_below: int = EXACT_SEARCH_BELOW,
    hnsw_build_above: int | None = None,
    sparse: bool = False,
) -> qe.EdgeConfig:
    """The qdrant-edge shard configuration ragops creates collections with.

    ``exact_search_below`` becomes HNSW ``full_scan_threshold`` (searches over fewer candidate
    points are exact). ``hnsw_build_above`` (points per segment) sets the optimizer's indexing
    threshold; None keeps qdrant's default (10 MB of vectors, ~6.7k points at 384-d).
    m=16 and ef_construct=100 are Qdrant's defaults. ``sparse`` adds the BM25 vector
    :data:`~ragops.store.base.SPARSE_VECTOR`, weighed by IDF (which Qdrant keeps per segment).
    """
    optimizers = None
    if hnsw_build_above is not None:
        optimizers = qe.EdgeOptimizersConfig(
            indexing_threshold=_points_to_kb(hnsw_build_above, dimension)
        )
    return qe.EdgeConfig(
        vectors=qe.EdgeVectorParams(size=dimension, distance=DISTANCES[distance]),
        hnsw_config=qe.HnswIndexConfig(
            m=16,
            ef_construct=100,
            full_scan_threshold=_points_to_kb(exact_search_below, dimension),
        ),
        optimizers=optimizers,
        sparse_vectors=(
            {SPARSE_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)} if sparse else None
        ),
    )


def version_conditions(version: int) -> list[qe.FieldCondition]:
    """``v_from <= version < v_to`` (payload-indexed integer ranges)."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise StoreError(f"Invalid version {version!r}: it must be an int.")
    return [
        qe.FieldCondition("v_from", range=qe.RangeFloat(lte=float(version))),
        qe.FieldCondition("v_to", range=qe.RangeFloat(gt=float(version))),
    ]


def edge_filter(version: int | None, filters: Mapping[str, Any] | None = None) -> qe.Filter | None:
    must: list[Any] = [] if version is None else version_conditions(version)
    for key, value in normalize_filters(filters):
        match = qe.MatchAny(value) if isinstance(value, list) else qe.MatchValue(value)
        must.append(qe.FieldCondition(key, match=match))
    return qe.Filter(must=must) if must else None


def edge_sparse(vector: SparseVector) -> qe.SparseVector:
    return qe.SparseVector(list(vector.indices), list(vector.values))


def edge_vector(dense: list[float], sparse: SparseVector | None) -> Any:
    """A point's vectors as qdrant-edge takes them: the dense one alone, or by name."""
    if sparse is None:
        return dense
    return {"": dense, SPARSE_VECTOR: edge_sparse(sparse)}


def record(rec: Any, with_vectors: bool) -> PointRecord:
    vector: Sequence[float] = []
    sparse = None
    if with_vectors and rec.vector is not None:
        vector, sparse = unpack_vectors(rec.vector)
    return PointRecord(
        id=str(rec.id), vector=vector, payload=dict(rec.payload or {}), sparse=sparse
    )
