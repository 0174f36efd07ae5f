"""How one search ranks chunks: the mode (dense, sparse or hybrid) a query runs in, and the
store request that carries it.

The index's ``retrieval:`` settings give the default; a query may name another mode. A version
whose generation has no BM25 vectors (built before they existed, or with ``sparse.enabled:
false``) is searched densely under the default, and refuses an explicit sparse or hybrid mode
with the fix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ragops.config.retrieval import MODES, RetrievalConfig
from ragops.hits import Hit
from ragops.store import ScoredPoint, SearchQuery, SparseVector
from ragops.store.groups import groups_by_overfetch

if TYPE_CHECKING:  # pragma: no cover
    from ragops.catalog import Generation
    from ragops.store import VectorStore

__all__ = [
    "check_mode",
    "hits_of",
    "resolve_mode",
    "retrieval_label",
    "search_points",
    "store_query",
]


def check_mode(mode: str | None) -> None:
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")


def resolve_mode(
    requested: str | None, settings: RetrievalConfig, generation: Generation, where: str
) -> str:
    """The mode a search of ``generation`` runs in (``where`` names the version in errors)."""
    check_mode(requested)
    has_sparse = generation.spec.get("sparse") is not None
    if requested is None:
        return settings.mode if has_sparse else "dense"
    if requested != "dense" and not has_sparse:
        raise ValueError(
            f"{where} has no BM25 vectors (its generation was built without them), so it can "
            f"only be searched in dense mode; search with mode='dense', or rebuild it with "
            "`ragops sync` (sparse.enabled: true) and promote the new version"
        )
    return requested


def retrieval_label(mode: str, fusion: str, group_by: str | None) -> str:
    """How a search ranked, as eval evidence records it: ``dense``, ``sparse``,
    ``hybrid-rrf`` or ``hybrid-dbsf``, then ``/<field>`` when hits were grouped by a field
    (``hybrid-rrf/doc_id``). Gates compare scores of one label only."""
    name = f"hybrid-{fusion}" if mode == "hybrid" else mode
    return f"{name}/{group_by}" if group_by else name


def store_query(
    mode: str,
    settings: RetrievalConfig,
    dense: Sequence[float] | None,
    sparse: SparseVector | None,
) -> SearchQuery:
    return SearchQuery(
        dense=list(map(float, dense)) if mode != "sparse" and dense is not None else None,
        sparse=sparse if mode != "dense" else None,
        fusion=settings.fusion,
        weights=(settings.weights.dense, settings.weights.sparse),
        prefetch=settings.prefetch,
        rrf_k=settings.rrf_k,
    )


def search_points(
    store: VectorStore,
    collection: str,
    request: SearchQuery,
    k: int,
    version: int,
    filters: Mapping[str, Any] | None,
    group_by: str | None,
    group_size: int,
) -> list[ScoredPoint]:
    """The points of one search, best first (grouped: each group's points in a row)."""
    if group_by is None:
        return store.query(collection, request, k, version, filters)
    if request.mode == "dense":
        groups = store.search_groups(
            collection, request.dense or [], k, version, filters,
            group_by=group_by, group_size=group_size,
        )  # fmt: skip
        groups = [
            [ScoredPoint(p.id, p.score, p.payload, dense_score=p.score) for p in group]
            for group in groups
        ]
    else:  # branch scores read once, for the hits kept, not for every hit fetched
        fetch = dataclasses.replace(request, branch_scores=False)
        groups = groups_by_overfetch(
            lambda limit: store.query(collection, fetch, limit, version, filters),
            k, group_by, group_size,
        )  # fmt: skip
        if request.mode == "hybrid":
            kept = [point.id for group in groups for point in group]
            dense, sparse = store.score_branches(collection, request, kept)
            groups = [
                [
                    dataclasses.replace(
                        p, dense_score=dense.get(p.id), sparse_score=sparse.get(p.id)
                    )
                    for p in group
                ]
                for group in groups
            ]
    return [point for group in groups for point in group]


def hits_of(points: Sequence[ScoredPoint], version: int, mode: str) -> list[Hit]:
    return [
        Hit(
            text=p.payload.get("text", ""),
            score=float(p.score),
            doc_id=p.payload.get("doc_id", ""),
            chunk_id=p.payload.get("chunk_id", p.id),
            metadata=dict(p.payload.get("metadata") or {}),
            version=version,
            source=p.payload.get("source", ""),
            dense_score=p.dense_score,
            sparse_score=p.sparse_score,
            rank=rank,
            mode=mode,
        )
        for rank, p in enumerate(points, start=1)
    ]
