"""Vector stores: the :class:`VectorStore` port and :func:`open_store`.

Two adapters implement the port, imported only when :func:`open_store` needs one so that
``import ragops.store`` stays cheap:

* :class:`ragops.store.edge.EdgeStore` — qdrant-edge-py, embedded and persistent (the default,
  used when ``store.url`` is not set). One process at a time per data directory.
* :class:`ragops.store.client.ClientStore` — qdrant-client, for a Qdrant server URL (concurrent
  access, docker-compose, clusters) or ``":memory:"`` (tests).

Both pass ``tests/store/test_contract.py``; their shared defaults live in
:mod:`ragops.store.common`.
"""

from __future__ import annotations

from pathlib import Path

from ragops.errors import StoreError
from ragops.store.base import (
    OPEN,
    SPARSE_VECTOR,
    Distance,
    PointRecord,
    ScoredPoint,
    SearchQuery,
    SparseVector,
    VectorStore,
)
from ragops.store.common import DEFAULT_HNSW_EF, EXACT_SEARCH_BELOW

__all__ = [
    "DEFAULT_HNSW_EF",
    "EXACT_SEARCH_BELOW",
    "OPEN",
    "SPARSE_VECTOR",
    "Distance",
    "PointRecord",
    "ScoredPoint",
    "SearchQuery",
    "SparseVector",
    "VectorStore",
    "open_store",
]


def open_store(url: str | None, path: str | Path | None, api_key: str | None = None) -> VectorStore:
    """Open the vector store a project is configured for.

    ``url`` (``store.url`` in ragops.yaml: ``http(s)://host:6333`` or ``":memory:"``) selects the
    qdrant-client adapter; otherwise ``path`` (``store.path``) holds the embedded qdrant-edge store.
    Raises :class:`~ragops.errors.StoreLockedError` when the embedded store is open in another
    process, and :class:`~ragops.errors.StoreError` when neither is given or opening fails.
    """
    if url:
        from ragops.store.client import ClientStore

        return ClientStore(url, api_key=api_key)
    if path is None or str(path) == "":
        raise StoreError(
            "No vector store configured: neither store.url nor store.path is set. "
            "Fix: set store.path in ragops.yaml to a directory for the embedded store "
            "(e.g. `.ragops/qdrant`), or store.url to a Qdrant server URL."
        )
    from ragops.store.edge import EdgeStore

    return EdgeStore(path)
