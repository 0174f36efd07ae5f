"""Chunks: documents cut to the embedding model's size, with ids that survive edits."""

from __future__ import annotations

from ragops.chunks.chunker import Chunk, Chunker
from ragops.chunks.ids import chunk_id, point_id, text_hash

__all__ = ["Chunk", "Chunker", "chunk_id", "point_id", "text_hash"]
