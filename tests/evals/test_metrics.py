"""Rank metrics against hand computations."""

from __future__ import annotations

import math

import pytest

from ragops.evals.metrics import hit_rate_at_k, mrr, ndcg_at_k, precision_at_k, recall_at_k

RETRIEVED = ["a", "x", "b", "y", "c"]
RELEVANT = {"a", "b", "c", "d"}


def test_recall_at_k() -> None:
    assert recall_at_k(RETRIEVED, RELEVANT, 1) == 1 / 4
    assert recall_at_k(RETRIEVED, RELEVANT, 3) == 2 / 4
    assert recall_at_k(RETRIEVED, RELEVANT, 5) == 3 / 4
    assert recall_at_k(RETRIEVED, RELEVANT, 50) == 3 / 4


def test_precision_at_k_divides_by_k() -> None:
    assert precision_at_k(RETRIEVED, RELEVANT, 1) == 1.0
    assert precision_at_k(RETRIEVED, RELEVANT, 3) == 2 / 3
    assert precision_at_k(RETRIEVED, RELEVANT, 5) == 3 / 5
    # fewer results than k: the missing slots count as misses
    assert precision_at_k(RETRIEVED, RELEVANT, 10) == 3 / 10


def test_hit_rate_at_k() -> None:
    assert hit_rate_at_k(["x", "a"], {"a"}, 1) == 0.0
    assert hit_rate_at_k(["x", "a"], {"a"}, 2) == 1.0
    assert hit_rate_at_k([], {"a"}, 5) == 0.0


def test_mrr() -> None:
    assert mrr(RETRIEVED, RELEVANT) == 1.0
    assert mrr(["x", "y", "a"], {"a"}) == 1 / 3
    assert mrr(["x", "y", "a"], {"a"}, k=2) == 0.0
    assert mrr(["x", "y"], {"a"}) == 0.0


def test_ndcg_hand_computed() -> None:
    # DCG = 1/log2(2) + 1/log2(4) + 1/log2(6) = 1 + 0.5 + 0.3868528072
    # IDCG over min(5, 4) = 4 ideal hits = 1 + 0.6309297536 + 0.5 + 0.4306765581
    expected = (1 + 0.5 + 0.3868528072) / (1 + 0.6309297536 + 0.5 + 0.4306765581)
    assert ndcg_at_k(RETRIEVED, RELEVANT, 5) == pytest.approx(expected, abs=1e-9)
    # docstring example
    assert ndcg_at_k(["x", "a", "b"], {"a", "b"}, 3) == pytest.approx(0.6934264, abs=1e-6)


def test_ndcg_ideal_uses_min_of_k_and_relevant() -> None:
    # 3 relevant, k=2, both slots relevant: ideal is 2 hits, so a perfect 1.0
    assert ndcg_at_k(["a", "b"], {"a", "b", "c"}, 2) == 1.0
    # one relevant at rank 2: (1/log2 3) / 1
    assert ndcg_at_k(["x", "a"], {"a"}, 10) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(["x", "y"], {"a"}, 2) == 0.0


def test_repeated_ids_are_credited_once() -> None:
    # three chunks of one relevant document: one document found, nDCG stays <= 1
    assert ndcg_at_k(["a", "a", "a"], {"a"}, 3) == 1.0
    assert precision_at_k(["a", "a", "a"], {"a"}, 3) == 1 / 3
    assert recall_at_k(["a", "a"], {"a"}, 2) == 1.0
    assert mrr(["x", "a", "a"], {"a"}) == 0.5


def test_ndcg_agrees_with_sklearn() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    retrieved = ["x", "b", "y", "a", "z", "c"]
    relevant = {"a", "b", "c", "d", "e"}
    items = retrieved + sorted(relevant - set(retrieved))
    y_true = [[1.0 if i in relevant else 0.0 for i in items]]
    y_score = [[float(len(items) - r) if r < len(retrieved) else -1.0 for r in range(len(items))]]
    for k in (1, 3, 5, 6):
        expected = sklearn_metrics.ndcg_score(y_true, y_score, k=k)
        assert ndcg_at_k(retrieved, relevant, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("fn", [recall_at_k, precision_at_k, hit_rate_at_k, ndcg_at_k, mrr])
def test_invalid_input(fn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="relevant is empty"):
        fn(["a"], set(), 1)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        fn(["a"], {"a"}, 0)
