"""Chunk and point ids: deterministic, so re-running a sync never duplicates a vector.

A chunk id depends on the document and on the chunk's own text, not on its position:
``uuid5(source, doc_id, sha256(text), occurrence)`` where ``occurrence`` counts earlier chunks of
the same document with the same text (0 for the first). Inserting a section at the top of a
file therefore keeps the id, and the point, of every chunk whose text did not change.

A point id is ``uuid5(chunk id, first version)``: a chunk that leaves the index and comes back
later (a reverted edit) gets a new point, so the versions that held it before keep their own
point untouched.
"""

from __future__ import annotations

import hashlib
import uuid

__all__ = ["CHUNK_NAMESPACE", "POINT_NAMESPACE", "chunk_id", "point_id", "text_hash"]

#: Namespace of chunk ids (uuid5). Changing it would change every chunk id: never do.
CHUNK_NAMESPACE = uuid.UUID("3f9a4a52-6f0c-5a7e-9d43-2b7c1f0e8a11")

#: Namespace of point ids (uuid5 of chunk id and first version). Never change it either.
POINT_NAMESPACE = uuid.UUID("8c1d7e36-2b4f-5a90-b1e2-6f3a9d0c4e57")

#: Format of the chunk-id input; bumped from 1 (which hashed the ordinal) when ids stopped
#: depending on position.
_CHUNK_ID_FORMAT = 2


def text_hash(text: str) -> str:
    """sha256 of the text (UTF-8), hex: the key of the embedding cache too."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_id(source: str, doc_id: str, text: str, occurrence: int = 0) -> str:
    """The id of the ``occurrence``-th chunk (0-based) with this ``text`` in a document."""
    key = f"{_CHUNK_ID_FORMAT}\x00{source}\x00{doc_id}\x00{text_hash(text)}\x00{occurrence}"
    return str(uuid.uuid5(CHUNK_NAMESPACE, key))


def point_id(chunk: str, v_from: int) -> str:
    """The Qdrant point id of chunk ``chunk`` first written in version ``v_from``."""
    return str(uuid.uuid5(POINT_NAMESPACE, f"{chunk}\x00{v_from}"))
