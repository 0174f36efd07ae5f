"""Continuous batching of query embeddings: concurrent searches share model calls and each
gets exactly the vector it would have got alone."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from ragops.config import EmbeddingConfig
from ragops.vectors import Embedder
from ragops.vectors.batching import QueryBatcher

QUERIES = [f"question number {i} about tomatoes and the moon" for i in range(24)]


def test_concurrent_queries_share_model_calls_and_get_their_own_vectors() -> None:
    embedder = Embedder(EmbeddingConfig(dtype="float32"))
    alone = {q: embedder.embed_queries([q])[0] for q in QUERIES}
    batcher = QueryBatcher(embedder)
    results: dict[str, np.ndarray] = {}
    start = threading.Barrier(len(QUERIES))

    def search(query: str) -> None:
        start.wait()
        results[query] = batcher.embed([query])[0]

    threads = [threading.Thread(target=search, args=(q,)) for q in QUERIES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    batcher.close()
    assert batcher.queries == len(QUERIES)
    assert batcher.calls < len(QUERIES), "queries that waited together were embedded together"
    for query in QUERIES:
        assert np.allclose(results[query], alone[query], atol=1e-5), query


def test_a_failing_model_call_fails_every_query_of_its_batch() -> None:
    class Broken:
        def embed_queries(self, texts: list[str]) -> np.ndarray:
            raise RuntimeError("model gone")

    batcher = QueryBatcher(Broken())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="model gone"):
        batcher.embed(["a", "b"])
    batcher.close()
