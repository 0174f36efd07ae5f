"""The index spec fingerprint: what decides the stored vectors.

sha256 over canonical JSON of the parser, chunker settings, embedding model identity (weights
hash, dimension, dtype actually used, prefixes), the context embedded with each chunk, the
BM25 settings (None: no sparse vectors), distance and the user's ``stamp``. One
fingerprint is one **generation**: one physical collection (see
:mod:`ragops.versions.collections`). Metadata-only settings (sources' options, evals, gates,
retention) are left out, so editing them never re-embeds anything.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["IndexSpec", "collection_name"]

SPEC_FORMAT = 1


@dataclass(frozen=True)
class IndexSpec:
    """The data half of an index's configuration."""

    index_name: str
    parser: dict[str, Any]
    chunker: dict[str, Any]
    embedding: dict[str, Any]
    distance: str
    stamp: str
    #: What is embedded with each chunk's text: {"title": bool, "headings": bool}.
    context: dict[str, bool] | None = None
    #: BM25 settings (see :class:`ragops.config.retrieval.SparseConfig`); None: dense only.
    sparse: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        spec = {
            "format": SPEC_FORMAT,
            "parser": self.parser,
            "chunker": self.chunker,
            "embedding": self.embedding,
            "distance": self.distance,
            "stamp": self.stamp,
        }
        # Left out when unset, so generations built before they existed keep their fingerprint.
        if self.context is not None:
            spec["context"] = self.context
        if self.sparse is not None:
            spec["sparse"] = self.sparse
        return spec

    @property
    def fingerprint(self) -> str:
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def dimension(self) -> int:
        return int(self.embedding["dimension"])

    def __str__(self) -> str:
        return f"{self.index_name}@{self.fingerprint[:12]}"


def collection_name(project_id: str, index: str, fingerprint: str) -> str:
    """The collection of one generation of ``index`` in the project ``project_id``.

    The project id keeps two projects with an index of the same name apart on one store.
    """
    return f"{index}__{fingerprint[:12]}__{project_id}"
