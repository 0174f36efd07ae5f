"""The exceptions ragops raises.

Every error says what went wrong, where, and how to fix it::

    RagopsError
    ├── ConfigError            ragops.yaml is invalid (names the key, the value and the fix)
    ├── ConnectorError         a source could not be listed or read
    ├── ParseError             one document could not be parsed (it gets quarantined)
    ├── ParserSetupError       the parser cannot run here at all (the sync stops)
    ├── EmbeddingError         the embedding model could not be loaded or run
    ├── StoreError             the vector store failed
    │   └── StoreLockedError   the embedded store is held by another process
    ├── CatalogError           the catalog database failed or is inconsistent
    ├── IndexNotFoundError     no such index / version / environment
    ├── SyncInProgressError    another sync of the same index holds the lock
    ├── PromotionError         a promotion or rollback was refused
    └── EvalError              an eval set is invalid or an eval failed
"""

from __future__ import annotations

__all__ = [
    "CatalogError",
    "ConfigError",
    "ConnectorError",
    "EmbeddingError",
    "EvalError",
    "IndexNotFoundError",
    "ParseError",
    "ParserSetupError",
    "PromotionError",
    "RagopsError",
    "StoreError",
    "StoreLockedError",
    "SyncInProgressError",
]


class RagopsError(Exception):
    """Base class of every error ragops raises on purpose."""


class ConfigError(RagopsError):
    """The project configuration is invalid. Raised before any work starts."""


class ConnectorError(RagopsError):
    """A source could not be listed or read."""


class ParseError(RagopsError):
    """One document could not be turned into text. The document is quarantined."""


class ParserSetupError(RagopsError):
    """The parser itself cannot run here (a model or tool is missing, a setting is unusable).

    Not a :class:`ParseError`: it concerns every document, so a sync stops and shows the fix
    instead of quarantining each file.
    """


class EmbeddingError(RagopsError):
    """The embedding model could not be found, loaded or run."""


class StoreError(RagopsError):
    """The vector store failed."""


class StoreLockedError(StoreError):
    """The embedded vector store is open in another process."""


class CatalogError(RagopsError):
    """The catalog database failed or holds inconsistent state."""


class IndexNotFoundError(RagopsError):
    """The named index, version or environment does not exist."""


class SyncInProgressError(RagopsError):
    """Another sync of the same index is running."""


class PromotionError(RagopsError):
    """A promotion or rollback was refused."""


class EvalError(RagopsError):
    """An eval set is invalid or an evaluation could not run."""
