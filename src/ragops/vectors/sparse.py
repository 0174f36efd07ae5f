"""BM25 sparse vectors, made by qdrant-edge's tokenizer (no model download, no server).

A document's vector holds BM25 term weights ``tf·(k+1) / (tf + k·(1 − b + b·len/avg_len))``; a
query's holds 1.0 per distinct term; Qdrant multiplies in each term's IDF at search time (the
collection's sparse vector has the IDF modifier), so scores are exactly BM25. ``avg_len``
("auto" in the settings) is measured on the first batch of chunks a generation writes (up to
256) by :func:`measure_avg_len` and kept in each version's stats, so every later version of the
generation weighs its chunks the same.

Costs ~0.04 ms per 775-character paragraph on one core (SQuAD dev), about 0.2 % of embedding it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import qdrant_edge as qe

from ragops.store import SparseVector

__all__ = ["SparseEncoder", "measure_avg_len", "sparse_encoder"]

_TOKENIZERS = {
    "word": qe.TokenizerType.Word,
    "whitespace": qe.TokenizerType.Whitespace,
    "prefix": qe.TokenizerType.Prefix,
    "multilingual": qe.TokenizerType.Multilingual,
}


def _bm25_config(settings: Mapping[str, Any], avg_len: float, b: float | None = None) -> Any:
    language = str(settings.get("language", "english"))
    stopwords: Any = None
    if not settings.get("stopwords", True) or settings.get("extra_stopwords"):
        known = getattr(qe.Language, language.capitalize(), None)
        languages = {known} if known is not None and settings.get("stopwords", True) else set()
        stopwords = qe.StopwordsSet(
            languages=languages, custom=set(settings.get("extra_stopwords") or [])
        )
    stemmer: Any = None if settings.get("stemmer", True) else qe.DisabledStemmer()
    return qe.Bm25Config(
        k=float(settings.get("k", 1.2)),
        b=float(settings.get("b", 0.75)) if b is None else b,
        avg_len=float(avg_len),
        tokenizer=_TOKENIZERS[str(settings.get("tokenizer", "word"))],
        language=language,
        lowercase=bool(settings.get("lowercase", True)),
        ascii_folding=bool(settings.get("ascii_folding", False)),
        stopwords=stopwords,
        stemmer=stemmer,
    )


def sparse_encoder(
    settings: Mapping[str, Any] | None, avg_len: float | None
) -> SparseEncoder | None:
    """The encoder of a spec's ``sparse`` settings (None: dense only). ``avg_len``: the length
    the generation was weighed with so far; unless the settings fix one, None measures it on
    the first documents encoded."""
    if settings is None:
        return None
    fixed = settings.get("avg_len", "auto")
    return SparseEncoder(settings, avg_len if fixed == "auto" else float(fixed))


class SparseEncoder:
    """Documents and queries as BM25 vectors, with the settings of an index spec's ``sparse``.

    ``avg_len`` None: measured on the first texts :meth:`documents` gets (queries do not
    depend on it).
    """

    def __init__(self, settings: Mapping[str, Any], avg_len: float | None = None) -> None:
        self.settings = dict(settings)
        self.avg_len = None if avg_len is None else float(avg_len)
        self._model: Any = None
        self._query_model = qe.Bm25(_bm25_config(self.settings, 256.0))

    def documents(self, texts: Sequence[str]) -> list[SparseVector]:
        if self._model is None:
            if self.avg_len is None:
                self.avg_len = measure_avg_len(self.settings, texts)
            self._model = qe.Bm25(_bm25_config(self.settings, self.avg_len))
        return [_sparse(self._model.embed_document(text)) for text in texts]

    def query(self, text: str) -> SparseVector:
        """1.0 per distinct term of ``text`` (empty when every word is a stopword)."""
        return _sparse(self._query_model.embed_query(text))


def measure_avg_len(settings: Mapping[str, Any], texts: Sequence[str]) -> float:
    """The average length in BM25 tokens (after stopwords) of ``texts``.

    With ``b = 0`` a document weight is ``tf·(k+1)/(tf+k)``, so each term's frequency is
    ``w·k/(k+1−w)``: summing them gives the length qdrant-edge's own tokenizer sees.
    """
    k = float(settings.get("k", 1.2)) or 1.2
    counter = qe.Bm25(_bm25_config({**settings, "k": k}, 256.0, b=0.0))
    total = 0.0
    for text in texts:
        total += sum(w * k / (k + 1 - w) for w in counter.embed_document(text).values)
    return max(1.0, round(total / max(1, len(texts)), 1))


def _sparse(vector: Any) -> SparseVector:
    return SparseVector(tuple(vector.indices), tuple(vector.values))
