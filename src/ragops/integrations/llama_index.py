"""LlamaIndex integration: a ``BaseRetriever`` that searches a ragops index."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from ragops.hits import Hit

__all__ = ["RagopsLlamaRetriever", "Searcher"]


class Searcher(Protocol):
    """What the adapter needs: ``ragops.Retriever`` (embedded or over HTTP) has it."""

    def search(
        self, query: str, k: int = 5, filters: Mapping[str, Any] | None = None
    ) -> list[Hit]: ...


class RagopsLlamaRetriever(BaseRetriever):
    """Returns ``NodeWithScore`` whose node id is the ragops chunk id."""

    def __init__(
        self, retriever: Searcher, k: int = 5, filters: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__()
        self._ragops = retriever
        self._k = k
        self._filters = dict(filters) if filters else None

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._ragops.search(query_bundle.query_str, k=self._k, filters=self._filters)
        return [
            NodeWithScore(
                node=TextNode(
                    id_=hit.chunk_id,
                    text=hit.text,
                    metadata={
                        **hit.metadata,
                        "doc_id": hit.doc_id,
                        "source": hit.source,
                        "index_version": hit.version,
                    },
                ),
                score=hit.score,
            )
            for hit in hits
        ]
