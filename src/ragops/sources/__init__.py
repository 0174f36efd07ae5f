"""Sources: the connector SDK and the registry that finds a project's connectors.

Write a connector with :func:`connector` and :class:`SourceDocument` (see
:mod:`ragops.sources.sdk`); give it an :class:`Incremental` cursor to list only what changed
(:mod:`ragops.sources.incremental`) and :mod:`ragops.sources.http` to call web APIs. ragops
lists every source completely before changing anything.
"""

from __future__ import annotations

from ragops.sources.incremental import Incremental, SourceMemory, SourceState, Unchanged
from ragops.sources.registry import ConnectorRegistry
from ragops.sources.sdk import (
    INJECTED_PARAMETERS,
    Connector,
    Listing,
    SourceDocument,
    connector,
)

__all__ = [
    "INJECTED_PARAMETERS",
    "Connector",
    "ConnectorRegistry",
    "Incremental",
    "Listing",
    "SourceDocument",
    "SourceMemory",
    "SourceState",
    "Unchanged",
    "connector",
]
