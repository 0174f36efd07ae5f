"""Sparse and hybrid queries through qdrant-client: the requests, and each branch's score.

As in :mod:`ragops.store.edge_query`: a hybrid query is one ``query_points`` call with two
prefetches (dense, and BM25 under :data:`~ragops.store.base.SPARSE_VECTOR`), each under the
version and caller filter, fused by RRF or DBSF; a batch of two queries restricted to the hits'
ids then reads each hit's dense and sparse score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from qdrant_client import models as qm

from ragops.store.base import SPARSE_VECTOR, SearchQuery, SparseVector
from ragops.store.common import score_from_qdrant, tie_broken

__all__ = ["branch_requests", "client_sparse", "fused_arguments", "read_branch_scores"]


def client_sparse(vector: SparseVector) -> qm.SparseVector:
    return qm.SparseVector(indices=list(vector.indices), values=list(vector.values))


def fused_arguments(
    request: SearchQuery, k: int, flt: qm.Filter | None, params: qm.SearchParams | None
) -> dict[str, Any]:
    """``query_points`` keyword arguments of a hybrid query."""
    assert request.dense is not None and request.sparse is not None
    depth = max(request.prefetch, k)
    fusion: Any = (
        qm.RrfQuery(rrf=qm.Rrf(k=request.rrf_k, weights=list(request.weights)))
        if request.fusion == "rrf"
        else qm.FusionQuery(fusion=qm.Fusion.DBSF)
    )
    return {
        "prefetch": [
            qm.Prefetch(query=list(request.dense), filter=flt, limit=depth, params=params),
            qm.Prefetch(
                query=client_sparse(request.sparse), using=SPARSE_VECTOR, filter=flt, limit=depth
            ),
        ],
        "query": fusion,
        "query_filter": flt,
        "limit": k,
        "with_payload": True,
        "with_vectors": False,
    }


def branch_requests(request: SearchQuery, ids: Sequence[str]) -> list[qm.QueryRequest]:
    """The dense and sparse queries of ``request`` restricted to ``ids``."""
    only = qm.Filter(must=[qm.HasIdCondition(has_id=list(ids))])
    requests = []
    if request.dense is not None:
        requests.append(qm.QueryRequest(query=list(request.dense), filter=only, limit=len(ids)))
    if request.sparse:
        requests.append(
            qm.QueryRequest(
                query=client_sparse(request.sparse),
                using=SPARSE_VECTOR,
                filter=only,
                limit=len(ids),
            )  # fmt: skip
        )
    return requests


def read_branch_scores(
    request: SearchQuery, responses: list[Any], distance: str
) -> tuple[dict[str, float], dict[str, float]]:
    dense = (
        {str(p.id): score_from_qdrant(p.score, distance) for p in responses[0].points}
        if request.dense is not None
        else {}
    )
    sparse = {str(p.id): float(p.score) for p in responses[-1].points} if request.sparse else {}
    return dense, sparse


def scored_points(
    points: list[Any], score: Callable[[Any], float], dense: dict[str, float],
    sparse: dict[str, float],
) -> list[Any]:  # fmt: skip
    from ragops.store.base import ScoredPoint

    points = [
        ScoredPoint(
            id=str(p.id),
            score=score(p),
            payload=dict(p.payload or {}),
            dense_score=dense.get(str(p.id)),
            sparse_score=sparse.get(str(p.id)),
        )  # fmt: skip
        for p in points
    ]
    return tie_broken(points)
