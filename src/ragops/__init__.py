"""ragops: versioned, evaluated, promotable retrieval indexes from your team's documents.

The public surface is small; everything else lives in modules you import explicitly::

    import ragops

    with ragops.Project.open("ragops.yaml") as project:
        ragops.sync(project)                          # build a new version of each index
        ragops.evaluate(project, "docs")              # score the newest version, store evidence
        ragops.promote(project, "docs", 2)            # gates apply; atomic, audited
        ragops.rollback(project, "docs")
        summary = ragops.run(project)                 # the main job: all of the above

    hits = ragops.Retriever.open("docs", config="ragops.yaml").search("how do I roll back?")

Importing ragops changes nothing in the process (no environment variables, no logging
setup) and loads no model, parser or Dagster. The step-by-step pipeline the CLI and Dagster
share is :mod:`ragops.pipeline`.
"""

from __future__ import annotations

from ragops.config import ProjectConfig, load_config
from ragops.environments.promotion import Promotion, promote, rollback
from ragops.errors import (
    AccessError,
    AuthenticationError,
    CatalogError,
    ConfigError,
    ConnectorError,
    EmbeddingError,
    EvalError,
    IndexLockedError,
    IndexNotFoundError,
    LeaseLostError,
    LLMError,
    ParseError,
    ParserSetupError,
    PermissionDeniedError,
    PromotionError,
    PromptRenderError,
    RagopsError,
    StoreError,
    StoreLockedError,
)
from ragops.evals.evaluate import EvalRun
from ragops.evals.evaluate import evaluate_index as evaluate
from ragops.hits import Hit
from ragops.pipeline import RunSummary, run, sync
from ragops.project import Project
from ragops.retriever import Retriever
from ragops.sources import Incremental, SourceDocument, SourceState, Unchanged, connector

__version__ = "0.3.0"

__all__ = [
    "AccessError",
    "AuthenticationError",
    "CatalogError",
    "ConfigError",
    "ConnectorError",
    "EmbeddingError",
    "EvalError",
    "EvalRun",
    "Hit",
    "Incremental",
    "IndexLockedError",
    "IndexNotFoundError",
    "LLMError",
    "LeaseLostError",
    "ParseError",
    "ParserSetupError",
    "PermissionDeniedError",
    "Project",
    "ProjectConfig",
    "Promotion",
    "PromotionError",
    "PromptRenderError",
    "RagopsError",
    "Retriever",
    "RunSummary",
    "SourceDocument",
    "SourceState",
    "StoreError",
    "StoreLockedError",
    "Unchanged",
    "__version__",
    "connector",
    "evaluate",
    "load_config",
    "promote",
    "rollback",
    "run",
    "sync",
]
