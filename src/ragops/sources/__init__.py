"""Sources: the connector SDK and the registry that finds a project's connectors.

Write a connector with :func:`connector` and :class:`SourceDocument` (see
:mod:`ragops.sources.sdk`); ragops lists every source completely before changing anything.
"""

from __future__ import annotations

from ragops.sources.registry import ConnectorRegistry
from ragops.sources.sdk import INJECTED_PARAMETERS, Connector, SourceDocument, connector

__all__ = ["INJECTED_PARAMETERS", "Connector", "ConnectorRegistry", "SourceDocument", "connector"]
