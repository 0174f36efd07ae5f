"""Sparse and hybrid queries on qdrant-edge: the requests, and each branch's score per hit.

A hybrid query is one qdrant-edge request: two prefetches (the dense vector, and the BM25
vector under :data:`~ragops.store.base.SPARSE_VECTOR`), each under the version and caller
filter, fused by RRF or DBSF. Qdrant returns only the fused score, so a second request (a batch
of two queries restricted to the hits' ids, a few microseconds each) reads each hit's dense and
sparse score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import qdrant_edge as qe

from ragops.store.base import SPARSE_VECTOR, SearchQuery
from ragops.store.common import score_from_qdrant
from ragops.store.edge_schema import edge_sparse

__all__ = ["branch_scores", "fused_request", "sparse_request"]

Run = Callable[[qe.QueryRequest], list[Any]]


def sparse_request(request: SearchQuery, k: int, flt: qe.Filter | None) -> qe.QueryRequest:
    assert request.sparse is not None
    return qe.QueryRequest(
        limit=k,
        query=qe.Query.Nearest(edge_sparse(request.sparse), using=SPARSE_VECTOR),
        filter=flt,
        with_payload=True,
        with_vector=False,
    )


def fused_request(
    request: SearchQuery, k: int, flt: qe.Filter | None, hnsw_ef: int
) -> qe.QueryRequest:
    """Both branches as prefetches (each filtered), fused by the request's fusion."""
    assert request.dense is not None and request.sparse is not None
    depth = max(request.prefetch, k)
    fusion: Any = (
        qe.Fusion.Rrf(k=request.rrf_k, weights=list(request.weights))
        if request.fusion == "rrf"
        else qe.Fusion.Dbsf()
    )
    return qe.QueryRequest(
        limit=k,
        prefetches=[
            qe.Prefetch(
                limit=depth,
                query=qe.Query.Nearest(list(request.dense)),
                filter=flt,
                params=qe.SearchParams(hnsw_ef=max(hnsw_ef, depth)),
            ),
            qe.Prefetch(
                limit=depth,
                query=qe.Query.Nearest(edge_sparse(request.sparse), using=SPARSE_VECTOR),
                filter=flt,
            ),
        ],
        query=fusion,
        filter=flt,
        with_payload=True,
        with_vector=False,
    )


def branch_scores(
    shard: qe.EdgeShard,
    call: Callable[..., Any],
    request: SearchQuery,
    ids: Sequence[str],
    distance: str,
) -> tuple[dict[str, float], dict[str, float]]:
    """Each of ``ids``' dense and sparse score for the request's vectors (a point with no
    term of the query has no sparse score)."""
    if not ids:
        return {}, {}
    only = qe.Filter(must=[qe.HasIdCondition(set(ids))])
    queries = []
    if request.dense is not None:
        queries.append(qe.Query.Nearest(list(request.dense)))
    if request.sparse:
        queries.append(qe.Query.Nearest(edge_sparse(request.sparse), using=SPARSE_VECTOR))
    batch = qe.QueryBatchRequest(
        [
            qe.QueryRequest(
                limit=len(ids),
                query=query,
                filter=only,
                params=qe.SearchParams(exact=True),
                with_payload=False,
                with_vector=False,
            )
            for query in queries
        ]
    )
    results = call(shard.query_batch, batch)
    dense = (
        {str(h.id): score_from_qdrant(h.score, distance) for h in results[0]}
        if request.dense is not None
        else {}
    )
    sparse = {str(h.id): float(h.score) for h in results[-1]} if request.sparse else {}
    return dense, sparse
