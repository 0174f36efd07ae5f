"""The project configuration: ``ragops.yaml`` as validated pydantic models.

:func:`load_config` finds and reads the file; a bad one raises
:class:`~ragops.errors.ConfigError` naming the key, the value and the fix, before any work.
"""

from __future__ import annotations

from ragops.config.gates import DEFAULT_CUTOFFS, Gate
from ragops.config.loading import CONFIG_ENV_VAR, find_config, load_config
from ragops.config.models import (
    DEFAULT_CONFIG_NAME,
    CatalogConfig,
    ChunkerConfig,
    DagsterConfig,
    EmbeddingConfig,
    EvalSetConfig,
    IndexConfig,
    LLMConfig,
    ParsingConfig,
    ProjectConfig,
    RetentionConfig,
    SourceConfig,
    StoreConfig,
)

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CUTOFFS",
    "DEFAULT_CONFIG_NAME",
    "CatalogConfig",
    "ChunkerConfig",
    "DagsterConfig",
    "EmbeddingConfig",
    "EvalSetConfig",
    "Gate",
    "IndexConfig",
    "LLMConfig",
    "ParsingConfig",
    "ProjectConfig",
    "RetentionConfig",
    "SourceConfig",
    "StoreConfig",
    "find_config",
    "load_config",
]
