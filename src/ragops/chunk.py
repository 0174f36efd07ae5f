"""Cutting parsed text into chunks with LlamaIndex node parsers.

Chunk sizes are counted with the embedding model's own tokenizer, so a chunk never exceeds what
the model reads (all-MiniLM-L6-v2 silently truncates at 256 tokens). Chunk ids are
deterministic: ``uuid5(source, doc_id, sha256(text), ordinal)``, so re-running a sync on the same
content yields the same ids and never duplicates vectors.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ragops.config import ChunkerConfig

__all__ = ["Chunk", "Chunker", "chunk_id", "point_id", "text_hash"]

#: Namespace of chunk ids (uuid5). Changing it would change every chunk id: never do.
CHUNK_NAMESPACE = uuid.UUID("3f9a4a52-6f0c-5a7e-9d43-2b7c1f0e8a11")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: Namespace of point ids (uuid5 of chunk id and first version). Never change it either.
POINT_NAMESPACE = uuid.UUID("8c1d7e36-2b4f-5a90-b1e2-6f3a9d0c4e57")


def point_id(chunk: str, v_from: int) -> str:
    """The Qdrant point id of chunk ``chunk`` first written in version ``v_from``.

    A chunk that leaves the index and comes back later (a reverted edit) gets a new point, so
    the versions that held it before keep their own point untouched.
    """
    return str(uuid.uuid5(POINT_NAMESPACE, f"{chunk}\x00{v_from}"))


def chunk_id(source: str, doc_id: str, text: str, ordinal: int) -> str:
    """The deterministic id of the ``ordinal``-th chunk of a document."""
    return str(
        uuid.uuid5(CHUNK_NAMESPACE, f"{source}\x00{doc_id}\x00{text_hash(text)}\x00{ordinal}")
    )


@dataclass(frozen=True)
class Chunk:
    """A piece of a document, ready to embed."""

    id: str
    source: str
    doc_id: str
    ordinal: int
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def text_sha256(self) -> str:
        return text_hash(self.text)


class Chunker:
    """Splits text into chunks of at most ``chunk_size`` model tokens.

    ``kind: sentence`` uses LlamaIndex's ``SentenceSplitter``; ``kind: markdown`` first splits
    on markdown headers (``MarkdownNodeParser``, recording the header path in
    ``metadata["section"]``) and then sizes each section with the sentence splitter.
    """

    def __init__(
        self,
        config: ChunkerConfig,
        tokenizer: Callable[[str], list[Any]],
        max_tokens: int,
    ) -> None:
        size = (
            max_tokens if config.chunk_size == "auto" else min(int(config.chunk_size), max_tokens)
        )
        overlap = min(config.chunk_overlap, size // 4)
        self.config = config
        self._tokenizer = tokenizer
        self.chunk_size = size
        self.chunk_overlap = overlap

    @functools.cached_property
    def _splitter(self) -> Any:
        """LlamaIndex's SentenceSplitter, built on first use (importing LlamaIndex takes ~1 s,
        which a sync with nothing to chunk should not pay)."""
        from llama_index.core.node_parser import SentenceSplitter

        return SentenceSplitter(
            chunk_size=self.chunk_size, chunk_overlap=self.chunk_overlap, tokenizer=self._tokenizer
        )

    def settings(self) -> dict[str, Any]:
        """What changes the chunks (part of the index spec fingerprint)."""
        return {
            "kind": self.config.kind,
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "splitter": "llama_index.SentenceSplitter",
        }

    def split(
        self, source: str, doc_id: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[Chunk]:
        base = dict(metadata or {})
        pieces: list[tuple[str, dict[str, Any]]] = []
        if self.config.kind == "markdown":
            for section_text, section in self._packed_sections(text):
                pieces.extend(
                    (piece, {"section": section})
                    for piece in self._splitter.split_text(section_text)
                )
        else:
            pieces = [(piece, {}) for piece in self._splitter.split_text(text)]
        chunks = []
        for ordinal, (piece, extra) in enumerate(p for p in pieces if p[0].strip()):
            chunks.append(
                Chunk(
                    id=chunk_id(source, doc_id, piece, ordinal),
                    source=source,
                    doc_id=doc_id,
                    ordinal=ordinal,
                    text=piece,
                    metadata={**base, **{k: v for k, v in extra.items() if v}},
                )
            )
        return chunks

    def _packed_sections(self, text: str) -> list[tuple[str, str]]:
        """Markdown sections, neighbours packed together while they fit in one chunk.

        A heading alone (``# Title`` directly followed by ``## Part``) would otherwise become
        a chunk of two tokens; packing keeps headings with their text.
        """
        packed: list[tuple[str, str]] = []
        current_text, current_section, current_tokens = "", "", 0
        for section_text, section in _markdown_sections(text):
            tokens = len(self._tokenizer(section_text))
            if current_text and current_tokens + tokens <= self.chunk_size:
                current_text = f"{current_text}\n\n{section_text}"
                current_tokens += tokens
                continue
            if current_text:
                packed.append((current_text, current_section))
            current_text, current_section, current_tokens = section_text, section, tokens
        if current_text:
            packed.append((current_text, current_section))
        return packed


def _markdown_sections(text: str) -> list[tuple[str, str]]:
    """(section text, header path) pairs from LlamaIndex's MarkdownNodeParser.

    The header path includes the section's own heading: ``Concepts/Chunk``.
    """
    from llama_index.core import Document
    from llama_index.core.node_parser import MarkdownNodeParser

    parser = MarkdownNodeParser(include_metadata=True, include_prev_next_rel=False)
    nodes = parser.get_nodes_from_documents([Document(text=text)])
    sections = []
    for node in nodes:
        content = node.get_content()
        parents = [part for part in str(node.metadata.get("header_path", "")).split("/") if part]
        first_line = content.lstrip().split("\n", 1)[0]
        own = first_line.lstrip("#").strip() if first_line.startswith("#") else ""
        sections.append((content, "/".join([*parents, own] if own else parents)))
    return sections
