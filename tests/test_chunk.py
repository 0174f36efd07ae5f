"""Chunking: sized with the model's tokenizer, ids that survive edits, markdown sections."""

from __future__ import annotations

import pytest

from ragops.chunks import Chunker, chunk_id
from ragops.config import ChunkerConfig, EmbeddingConfig
from ragops.vectors import Embedder


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(EmbeddingConfig())


LONG = " ".join(
    f"Sentence number {i} talks about retrieval indexes and versions." for i in range(300)
)


def _model_tokens(embedder: Embedder, text: str) -> int:
    """Tokens the model itself reads of ``text``, [CLS] and [SEP] included, never truncated."""
    tokenizer = embedder.model.tokenizer
    return len(tokenizer(text, truncation=False, verbose=False)["input_ids"])


def test_chunks_never_exceed_what_the_model_reads(embedder: Embedder) -> None:
    chunker = Chunker(ChunkerConfig(), embedder.tokenize, embedder.max_content_tokens)
    chunks = chunker.split("docs", "long.md", LONG)
    assert len(chunks) > 5
    assert _model_tokens(embedder, LONG) > 3000
    limit = embedder.model.max_seq_length
    assert limit == 256
    for chunk in chunks:
        assert _model_tokens(embedder, chunk.text) <= limit, "the model would truncate it"


def test_chunk_ids_depend_on_document_and_text_not_position(embedder: Embedder) -> None:
    chunker = Chunker(ChunkerConfig(chunk_size=64), embedder.tokenize, embedder.max_content_tokens)
    first = chunker.split("docs", "a.md", LONG)
    assert [c.id for c in first] == [c.id for c in chunker.split("docs", "a.md", LONG)]
    assert first[0].id == chunk_id("docs", "a.md", first[0].text, 0)
    assert chunker.split("docs", "b.md", LONG)[0].id != first[0].id
    assert len({c.id for c in first}) == len(first)
    repeated = chunker.split("docs", "a.md", "Same words here.\n\n\n" * 400)
    assert len({c.text for c in repeated}) < len(repeated), "the text repeats"
    assert len({c.id for c in repeated}) == len(repeated), "identical texts get their own ids"


SECTION = "## {title}\n\n{title} " + "holds words that fill a section of its own. " * 12


def _doc(titles: list[str]) -> str:
    return "# Guide\n\n" + "\n\n".join(SECTION.format(title=t) for t in titles)


def test_a_section_inserted_at_the_top_keeps_every_later_chunk_id(embedder: Embedder) -> None:
    chunker = Chunker(ChunkerConfig(kind="markdown"), embedder.tokenize, 254)
    before = chunker.split("docs", "g.md", _doc(["Alpha", "Beta", "Gamma", "Delta"]))
    after = chunker.split("docs", "g.md", _doc(["Intro", "Alpha", "Beta", "Gamma", "Delta"]))
    kept = {c.id for c in before} & {c.id for c in after}
    assert len(before) >= 4
    assert len(kept) == len(before) - 1, "only the chunk that took in the new section changes"


def test_an_edit_in_one_section_changes_only_that_sections_chunk(embedder: Embedder) -> None:
    chunker = Chunker(ChunkerConfig(kind="markdown"), embedder.tokenize, 254)
    titles = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"]
    before = chunker.split("docs", "g.md", _doc(titles))
    edited = _doc(titles).replace("Gamma holds words", "Gamma now holds more words")
    after = chunker.split("docs", "g.md", edited)
    changed_before = [c for c in before if c.id not in {a.id for a in after}]
    changed_after = [c for c in after if c.id not in {b.id for b in before}]
    assert [c.metadata["section"] for c in changed_before] == ["Guide/Gamma"]
    assert [c.metadata["section"] for c in changed_after] == ["Guide/Gamma"]


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
    assert all(_model_tokens(embedder, c.text) <= 256 for c in chunks)


def test_explicit_chunk_size_is_capped_by_the_model(embedder: Embedder) -> None:
    chunker = Chunker(
        ChunkerConfig(chunk_size=4000), embedder.tokenize, embedder.max_content_tokens
    )
    assert chunker.chunk_size == 254
