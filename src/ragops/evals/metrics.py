"""Rank-based retrieval metrics over ranked lists of ids, with binary relevance.

Every function takes ``retrieved`` (ids in rank order, best first) and ``relevant``
(the set of ids judged relevant) and returns a float in [0, 1].

Conventions, shared by all functions so that they agree with each other:

* Ranks are 1-based: ``retrieved[0]`` has rank 1.
* Only the top ``k`` entries of ``retrieved`` count (all of them when ``k`` is None).
* An id is credited once, at its first (best) rank; a repeat of an id further down the
  list counts as not relevant. This keeps every metric in [0, 1] when a chunk retriever
  returns several chunks of one relevant document and relevance is judged per document.
* ``relevant`` must not be empty: with nothing to find, recall and nDCG are undefined
  and the caller should record "not computed" rather than a number (``ValueError``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

__all__ = ["hit_rate_at_k", "mrr", "ndcg_at_k", "precision_at_k", "recall_at_k"]


def _gains(retrieved: Sequence[str], relevant: Collection[str], k: int | None) -> list[int]:
    """Binary gain per rank (1 = first occurrence of a relevant id) for the top k."""
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if not relevant:
        raise ValueError(
            "relevant is empty: the metric is undefined without relevant ids; "
            "skip this sample or give it references"
        )
    relevant_set = relevant if isinstance(relevant, set | frozenset) else set(relevant)
    top = retrieved if k is None else retrieved[:k]
    seen: set[str] = set()
    gains: list[int] = []
    for item in top:
        hit = item in relevant_set and item not in seen
        seen.add(item)
        gains.append(1 if hit else 0)
    return gains


def recall_at_k(retrieved: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Fraction of the relevant ids found in the top k.

    ``recall@k = |relevant ∩ top_k(retrieved)| / |relevant|``

    Example: retrieved ``[a, x, b]``, relevant ``{a, b, c}``, k=2 → 1/3.
    """
    return sum(_gains(retrieved, relevant, k)) / len(set(relevant))


def precision_at_k(retrieved: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Fraction of the k rank positions that hold a relevant id.

    ``precision@k = |relevant ∩ top_k(retrieved)| / k``

    The denominator is always ``k`` (as in trec_eval's ``P_k``): a retriever that returns
    fewer than k results is not rewarded for it. Example: retrieved ``[a, x, b]``,
    relevant ``{a, b}``, k=5 → 2/5.
    """
    return sum(_gains(retrieved, relevant, k)) / k


def hit_rate_at_k(retrieved: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1.0 if at least one relevant id is in the top k, else 0.0.

    ``hit_rate@k = 1[|relevant ∩ top_k(retrieved)| > 0]``
    (averaged over samples this is the success rate, "hit rate", "recall@k" in some papers).
    """
    return 1.0 if any(_gains(retrieved, relevant, k)) else 0.0


def mrr(retrieved: Sequence[str], relevant: Collection[str], k: int | None = None) -> float:
    """Reciprocal rank of the first relevant id (0.0 if none in the top k).

    ``RR = 1 / min{ rank(d) : d ∈ relevant ∩ top_k(retrieved) }``, or 0 when that set is
    empty. Averaged over samples this is the mean reciprocal rank (MRR@k).
    Example: retrieved ``[x, y, a]``, relevant ``{a}`` → 1/3.
    """
    for rank, gain in enumerate(_gains(retrieved, relevant, k), start=1):
        if gain:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(retrieved: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Normalised discounted cumulative gain at k, binary relevance.

    ``DCG@k  = Σ_{i=1..k} rel_i / log2(i + 1)``, with ``rel_i ∈ {0, 1}``

    ``IDCG@k = Σ_{i=1..min(k, |relevant|)} 1 / log2(i + 1)`` (all relevant ids ranked first)

    ``nDCG@k = DCG@k / IDCG@k``

    Example: retrieved ``[x, a, b]``, relevant ``{a, b}``, k=3 →
    ``(1/log2 3 + 1/log2 4) / (1 + 1/log2 3) ≈ 0.6934``.
    """
    gains = _gains(retrieved, relevant, k)
    dcg = sum(g / math.log2(i + 1) for i, g in enumerate(gains, start=1))
    ideal_hits = min(k, len(set(relevant)))
    idcg = sum(1.0 / math.log2(i + 1) for i in range(1, ideal_hits + 1))
    return dcg / idcg
