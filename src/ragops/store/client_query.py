"""Sparse and hybrid queries through qdrant-client: the requests, and each branch's score.

As in :mod:`ragops.store.edge_query`: a hybrid query is one ``query_points`` call with two
prefetches (dense, and BM25 under :data:`~ragops.store.base.SPARSE_VECTOR`), each under the
version and caller filter, fused by RRF or DBSF; a batch of two queries restricted to the hits'
ids (:meth:`ClientStore.score_branches <ragops.store.client.ClientStore.score_branches>`)
then reads each hit's dense and sparse score.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from qdrant_client import models as qm

from ragops.store.base import SPARSE_VECTOR, SearchQuery, SparseVector
from ragops.store.common import score_from_qdrant

__all__ = ["branch_requests", "client_sparse", "read_branch_scores", "sparse_or_hybrid"]


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


def sparse_or_hybrid(
    call: Callable[..., Any],
    client: Any,
    name: str,
    request: SearchQuery,
    k: int,
    flt: qm.Filter | None,
    params: qm.SearchParams | None,
) -> list[Any]:
    """Qdrant's points of a sparse or a hybrid (fused) query (``call(action, fn, *args)`` runs
    a qdrant-client call with ragops' error wording)."""
    assert request.sparse is not None
    if request.mode == "sparse":
        response = call(
            "search", client.query_points, name,
            query=client_sparse(request.sparse), using=SPARSE_VECTOR, query_filter=flt,
            limit=k, with_payload=True, with_vectors=False,
        )  # fmt: skip
    else:
        response = call(
            "search", client.query_points, name, **fused_arguments(request, k, flt, params)
        )
    return list(response.points)
