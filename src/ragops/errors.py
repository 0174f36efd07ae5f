"""The exceptions ragops raises.

Every error says what went wrong, where, and how to fix it::

    RagopsError
    ├── ConfigError            ragops.yaml is invalid (names the key, the value and the fix)
    ├── ConnectorError         a source could not be listed or read (nothing is deleted)
    ├── ParseError             one document could not be parsed (it gets quarantined)
    ├── ParserSetupError       the parser cannot run here at all (the sync stops)
    ├── EmbeddingError         the embedding model could not be loaded or run
    ├── StoreError             the vector store failed
    │   └── StoreLockedError   the embedded store is held by another process
    ├── CatalogError           the catalog database failed, is inconsistent or too new
    ├── IndexNotFoundError     no such index / version / environment / prompt
    ├── IndexLockedError       another operation holds the index's lock (names holder and age)
    │   └── LeaseLostError     this operation's lock expired and was taken over: it stopped
    ├── PromotionError         a promotion or rollback was refused
    ├── EvalError              an eval set is invalid or an eval could not run
    ├── LLMError               a chat endpoint failed (ragops.llm)
    ├── PromptRenderError      a prompt was rendered with the wrong variables (ragops.llm)
    └── AccessError            a caller may not do this (ragops.access)
        ├── AuthenticationError    no API key, or an unknown or revoked one (HTTP 401)
        └── PermissionDeniedError  the key's scope does not allow it (HTTP 403)
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccessError",
    "AuthenticationError",
    "CatalogError",
    "ConfigError",
    "ConnectorError",
    "EmbeddingError",
    "EvalError",
    "IndexLockedError",
    "IndexNotFoundError",
    "LLMError",
    "LeaseLostError",
    "ParseError",
    "ParserSetupError",
    "PermissionDeniedError",
    "PromotionError",
    "PromptRenderError",
    "RagopsError",
    "StoreError",
    "StoreLockedError",
]


class RagopsError(Exception):
    """Base class of every error ragops raises on purpose."""


class ConfigError(RagopsError):
    """The project configuration is invalid. Raised before any work starts."""


class ConnectorError(RagopsError):
    """A source could not be listed or read. A sync that meets one deletes nothing."""


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
    """The catalog database failed, holds inconsistent state, or was made by a newer ragops."""


class IndexNotFoundError(RagopsError):
    """The named index, version, environment or prompt does not exist."""


class IndexLockedError(RagopsError):
    """Another sync, promotion, rollback or retention run holds the index's lock.

    ``holder`` describes it (process, host, command) and ``age_seconds`` says how long it has
    held the lock; a holder that stops renewing its lease loses it after
    ``catalog.lease_seconds``.
    """

    def __init__(self, message: str, *, holder: str = "", age_seconds: float = 0.0) -> None:
        super().__init__(message)
        self.holder = holder
        self.age_seconds = age_seconds


class LeaseLostError(IndexLockedError):
    """This process's lock on an index expired and another process took it over.

    The operation stopped before committing anything; run it again.
    """


class MassDeleteError(RagopsError):
    """A listing would delete more of a source's documents than it may (a source that came back
    empty or half empty by mistake); nothing was changed."""


class PromotionError(RagopsError):
    """A promotion or rollback was refused. ``gates``: every gate checked (GateResult), when
    the gates refused it."""

    def __init__(self, message: str, *, gates: list[Any] | None = None) -> None:
        super().__init__(message)
        self.gates = list(gates or [])


class EvalError(RagopsError):
    """An eval set is invalid or an evaluation could not run (nothing was stored)."""


class LLMError(RagopsError):
    """A chat endpoint failed: unreachable, timed out, refused the request or answered garbage.

    ``kind`` is one of ``connection``, ``timeout``, ``auth``, ``not_found``, ``rate_limit``,
    ``http``, ``malformed``; ``status`` is the HTTP status when there was one.
    """

    def __init__(
        self, message: str, *, kind: str = "error", url: str = "", status: int | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.url = url
        self.status = status


class PromptRenderError(RagopsError, ValueError):
    """A prompt was rendered with missing or unexpected variables, or a value that does not fit
    its placeholder's format."""


class AccessError(RagopsError):
    """A caller may not do what it asked (see :mod:`ragops.access`)."""


class AuthenticationError(AccessError):
    """No API key was given, or it is unknown, malformed or revoked."""


class PermissionDeniedError(AccessError):
    """The caller's key is valid but its scope does not allow the operation."""
