"""How an index is searched: the BM25 vectors built beside the dense ones (``sparse:``, part of
the index spec), the text embedded with each chunk (``context:``, part of the spec) and the
query side (``retrieval:``: mode, fusion, weights and prefetch depth; changing it never
rebuilds anything). See docs/retrieval.md for when to pick which mode."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import Field, model_validator

from ragops.config.base import Strict

__all__ = ["ContextConfig", "RetrievalConfig", "RetrievalWeights", "SparseConfig"]

Mode = Literal["dense", "sparse", "hybrid"]
MODES: tuple[str, ...] = get_args(Mode)


class SparseConfig(Strict):
    """BM25 sparse vectors (qdrant-edge's tokenizer, stemmer and stopwords; IDF from Qdrant).

    Changing any of these builds a new generation.
    """

    enabled: bool = Field(
        default=True, description="Store BM25 vectors beside the dense ones (sparse, hybrid)"
    )
    language: str = Field(
        default="english",
        description="Language of the stopwords and the stemmer (english, german, french, ...)",
    )
    tokenizer: Literal["word", "whitespace", "prefix", "multilingual"] = "word"
    stemmer: bool = Field(default=True, description="Snowball stemming in `language`")
    stopwords: bool = Field(default=True, description="Drop the stopwords of `language`")
    extra_stopwords: list[str] = Field(default=[], description="More words to drop")
    lowercase: bool = True
    ascii_folding: bool = Field(default=False, description="Fold accents: café matches cafe")
    k: float = Field(default=1.2, ge=0, le=10, description="BM25 term-frequency saturation")
    b: float = Field(default=0.75, ge=0, le=1, description="BM25 length normalization")
    avg_len: float | Literal["auto"] = Field(
        default="auto",
        description="Average chunk length in BM25 tokens; auto: measured on the generation's "
        "first chunks and recorded with the generation",
    )

    @model_validator(mode="after")
    def _language_known(self) -> SparseConfig:
        import qdrant_edge

        try:
            qdrant_edge.Bm25(qdrant_edge.Bm25Config(language=self.language))
        except ValueError:
            raise ValueError(
                f"unsupported language {self.language!r}: use a lowercase language name such "
                "as english, german, french, spanish, italian, dutch, portuguese, russian"
            ) from None
        if isinstance(self.avg_len, float) and self.avg_len <= 0:
            raise ValueError(f"avg_len must be positive or 'auto', got {self.avg_len}")
        return self

    def spec(self) -> dict[str, Any] | None:
        """The settings as recorded in the index spec (None when disabled)."""
        if not self.enabled:
            return None
        return {"kind": "bm25", **self.model_dump(exclude={"enabled"})}


class ContextConfig(Strict):
    """What is embedded with each chunk's text (the stored text stays as it was)."""

    title: bool = Field(
        default=True, description="The document's title (its `title` metadata), when it has one"
    )
    headings: bool = Field(
        default=True, description="The heading path of the chunk (markdown chunker's section)"
    )

    def spec(self) -> dict[str, bool]:
        return self.model_dump()


class RetrievalWeights(Strict):
    """Weights of the dense and sparse rankings in RRF fusion."""

    dense: float = Field(default=1.0, gt=0, le=100)
    sparse: float = Field(default=1.0, gt=0, le=100)


# Why the defaults are what they are (SQuAD v1.1 dev, all 10,570 questions over its 2,067
# paragraphs, all-MiniLM-L6-v2; `python -m benchmarks.bench_squad --all`, results in
# benchmarks/results/squad.json): nDCG@10 dense 0.776, BM25 0.875, hybrid RRF (k=60) 0.858,
# hybrid DBSF 0.894; with each paragraph's title embedded (context) BM25 0.882, DBSF 0.899.
# DBSF is the one fusion at or above both of its branches there: RRF gives the weaker dense
# ranking as much say as BM25's.


class RetrievalConfig(Strict):
    """How searches of this index rank chunks (a query may override the mode)."""

    mode: Mode = Field(default="hybrid", description="dense, sparse (BM25) or hybrid (both, fused)")
    fusion: Literal["rrf", "dbsf"] = Field(
        default="dbsf",
        description="dbsf (distribution-based score fusion: each branch's scores normalized "
        "by their mean and spread, then summed) or rrf (reciprocal rank fusion, weighted)",
    )
    weights: RetrievalWeights = RetrievalWeights()
    prefetch: int = Field(
        default=50, ge=1, le=1000, description="Candidates each branch of a hybrid search takes"
    )
    rrf_k: int = Field(default=60, ge=1, le=1000, description="RRF's rank constant")

    @model_validator(mode="after")
    def _weights_need_rrf(self) -> RetrievalConfig:
        if self.fusion == "dbsf" and (self.weights.dense, self.weights.sparse) != (1.0, 1.0):
            raise ValueError(
                "weights apply to fusion: rrf only (Qdrant's DBSF takes none); remove "
                "`weights` or set `fusion: rrf`"
            )
        return self
