"""ragops: versioned, evaluated, promotable retrieval indexes from your team's documents.

The public surface is small; everything else lives in modules you import explicitly::

    from ragops import Retriever
    hits = Retriever.open("docs", config="ragops.yaml").search("how do I roll back?", k=5)
"""

from __future__ import annotations

from ragops import _offline

_offline.configure()

from ragops.config import ProjectConfig, load_config  # noqa: E402
from ragops.connectors import SourceDocument, connector  # noqa: E402
from ragops.errors import (  # noqa: E402
    CatalogError,
    ConfigError,
    ConnectorError,
    EmbeddingError,
    EvalError,
    IndexNotFoundError,
    ParseError,
    PromotionError,
    RagopsError,
    StoreError,
    StoreLockedError,
    SyncInProgressError,
)
from ragops.project import Project  # noqa: E402
from ragops.retriever import Hit, Retriever  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "CatalogError",
    "ConfigError",
    "ConnectorError",
    "EmbeddingError",
    "EvalError",
    "Hit",
    "IndexNotFoundError",
    "ParseError",
    "Project",
    "ProjectConfig",
    "PromotionError",
    "RagopsError",
    "Retriever",
    "SourceDocument",
    "StoreError",
    "StoreLockedError",
    "SyncInProgressError",
    "__version__",
    "connector",
    "load_config",
]
