"""Vectors: the embedding model (identity, loading, encoding) and the embedding cache."""

from __future__ import annotations

from ragops.vectors.cache import EmbeddingCache
from ragops.vectors.embedder import Embedder
from ragops.vectors.models import ModelInfo, resolve_model_path

__all__ = ["Embedder", "EmbeddingCache", "ModelInfo", "resolve_model_path"]
