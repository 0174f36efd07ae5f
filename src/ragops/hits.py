"""A search result, as the retriever, the integrations and the CLI hand it around."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Hit"]


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk: its text, score (higher is closer), document and version.

    ``score`` is the score of the search's mode: cosine similarity (dense), BM25 (sparse) or
    the fused score (hybrid: RRF or DBSF). ``dense_score`` and ``sparse_score`` are the chunk's
    score in each branch (None when the branch did not run, or, for BM25, when the chunk holds
    no term of the query); ``rank`` is its 1-based position in the result list.
    """

    text: str
    score: float
    doc_id: str
    chunk_id: str
    metadata: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    source: str = ""
    dense_score: float | None = None
    sparse_score: float | None = None
    rank: int = 0
    mode: str = "dense"

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "score": self.score,
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "metadata": self.metadata,
            "version": self.version,
            "source": self.source,
            "dense_score": self.dense_score,
            "sparse_score": self.sparse_score,
            "rank": self.rank,
            "mode": self.mode,
        }
