"""Cutting parsed text into chunks with LlamaIndex node parsers.

Chunk sizes are counted with the embedding model's own tokenizer, so a chunk never exceeds what
the model reads (all-MiniLM-L6-v2 silently truncates at 256 tokens). Chunk ids depend on the
document and the chunk's text, not its position (see :mod:`ragops.chunks.ids`), so an edit
rewrites only the chunks whose text changed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ragops.chunks.ids import chunk_id, text_hash
from ragops.config import ChunkerConfig

__all__ = ["Chunk", "Chunker"]

#: Version of the markdown packing rule (part of the chunker settings, so of the spec).
_PACKING = "h2-groups/1"


@dataclass(frozen=True)
class Chunk:
    """A piece of a document, ready to embed."""

    id: str
    source: str
    doc_id: str
    #: Position in the document (0-based) when it was cut; not part of the id or the payload.
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
    ``metadata["section"]``), packs small neighbouring sections together (never across a
    level-1 or level-2 heading, so an edit re-packs only its own part of the document; a
    heading with no text of its own always joins the section after it), and sizes each pack
    with the sentence splitter.
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
            **({"packing": _PACKING} if self.config.kind == "markdown" else {}),
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
        occurrences: dict[str, int] = {}
        for ordinal, (piece, extra) in enumerate(p for p in pieces if p[0].strip()):
            digest = text_hash(piece)
            occurrence = occurrences.get(digest, 0)
            occurrences[digest] = occurrence + 1
            chunks.append(
                Chunk(
                    id=chunk_id(source, doc_id, piece, occurrence),
                    source=source,
                    doc_id=doc_id,
                    ordinal=ordinal,
                    text=piece,
                    metadata={**base, **{k: v for k, v in extra.items() if v}},
                )
            )
        return chunks

    def _packed_sections(self, text: str) -> list[tuple[str, str]]:
        """Markdown sections, small neighbours packed together while they fit in one chunk.

        A pack never crosses a level-1 or level-2 heading, so the packs of one part of a
        document do not depend on the sizes of the parts before it; a pack holding only
        headings joins the next section whatever its level (``# Title`` directly followed by
        ``## Part`` would otherwise become a chunk of two tokens).
        """
        packed: list[tuple[str, str]] = []
        current_text, current_section, current_tokens = "", "", 0
        for section_text, section in _markdown_sections(text):
            tokens = len(self._tokenizer(section_text))
            starts_part = section.count("/") < 2  # a level-1 or level-2 heading
            fits = current_tokens + tokens <= self.chunk_size
            if current_text and fits and (not starts_part or _only_headings(current_text)):
                current_text = f"{current_text}\n\n{section_text}"
                current_tokens += tokens
                continue
            if current_text:
                packed.append((current_text, current_section))
            current_text, current_section, current_tokens = section_text, section, tokens
        if current_text:
            packed.append((current_text, current_section))
        return packed


def _only_headings(text: str) -> bool:
    """True when every non-blank line of ``text`` is a markdown heading."""
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(line.lstrip().startswith("#") for line in lines)


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
