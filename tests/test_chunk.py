"""Chunking: sized with the model's tokenizer, deterministic ids, markdown sections."""

from __future__ import annotations

import pytest

from ragops.chunk import Chunker, chunk_id
from ragops.config import ChunkerConfig, EmbeddingConfig
from ragops.embed import Embedder


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(EmbeddingConfig())


LONG = " ".join(
    f"Sentence number {i} talks about retrieval indexes and versions." for i in range(300)
)


def test_chunks_never_exceed_what_the_model_reads(embedder: Embedder) -> None:
    embedder.embed_documents(["warm the model so its tokenizer has truncation state"])
    chunker = Chunker(ChunkerConfig(), embedder.tokenize, embedder.max_content_tokens)
    chunks = chunker.split("docs", "long.md", LONG)
    assert len(chunks) > 5
    assert embedder.count_tokens(LONG) > 3000, "token counts are not truncated"
    for chunk in chunks:
        assert embedder.count_tokens(chunk.text) <= embedder.max_content_tokens == 254


def test_chunk_ids_are_deterministic_and_depend_on_document_text_and_position(
    embedder: Embedder,
) -> None:
    chunker = Chunker(ChunkerConfig(chunk_size=64), embedder.tokenize, embedder.max_content_tokens)
    first = chunker.split("docs", "a.md", LONG)
    again = chunker.split("docs", "a.md", LONG)
    assert [c.id for c in first] == [c.id for c in again]
    assert first[0].id == chunk_id("docs", "a.md", first[0].text, 0)
    assert chunker.split("docs", "b.md", LONG)[0].id != first[0].id
    assert len({c.id for c in first}) == len(first)


def test_markdown_chunker_keeps_headings_with_their_text_and_records_the_section(
    embedder: Embedder,
) -> None:
    text = "# Guide\n\n## Install\n\nRun make setup.\n\n## Use\n\n" + LONG
    chunker = Chunker(
        ChunkerConfig(kind="markdown"), embedder.tokenize, embedder.max_content_tokens
    )
    chunks = chunker.split("docs", "guide.md", text)
    assert chunks[0].text.startswith("# Guide") and "Run make setup." in chunks[0].text
    assert chunks[0].metadata["section"] == "Guide"
    assert chunks[-1].metadata["section"] == "Guide/Use"
    assert all(embedder.count_tokens(c.text) <= 254 for c in chunks)


def test_explicit_chunk_size_is_capped_by_the_model(embedder: Embedder) -> None:
    chunker = Chunker(
        ChunkerConfig(chunk_size=4000), embedder.tokenize, embedder.max_content_tokens
    )
    assert chunker.chunk_size == 254
