"""A search result, as the retriever, the integrations and the CLI hand it around."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Hit"]


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk: its text, score (higher is closer), document and version."""

    text: str
    score: float
    doc_id: str
    chunk_id: str
    metadata: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "score": self.score,
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "metadata": self.metadata,
            "version": self.version,
            "source": self.source,
        }
