"""Run an eval set against a retriever and summarise the retrieval quality.

The retriever is any ``search(questions, k) -> contexts per question`` callable, so the caller
decides how queries are embedded (in batches) and which index version answers them.

Relevance is binary. A retrieved context is relevant to a sample when its ``chunk_id`` is in
``reference_chunk_ids`` or, when the sample has ``reference_doc_ids``, its ``doc_id`` is in
them. Each retrieved context is credited to at most one reference (its chunk when the chunk is
a reference, else its document), and each reference at most once, at its best rank: three
chunks of one reference document in the top k find one reference, not three.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ragops.config.gates import JUDGED_METRICS, RANK_FAMILIES
from ragops.errors import CatalogError, EvalError, IndexNotFoundError, StoreError
from ragops.evals import metrics as m
from ragops.evals.ragas_metrics import (
    RAGAS_METRIC_NAMES,
    TEXT_METRICS,
    RagasInput,
    score_batch,
)
from ragops.evals.sets import EvalSample

__all__ = [
    "LLM_METRICS",
    "NO_JUDGE_REASON",
    "EvalReport",
    "RetrievedContext",
    "SampleResult",
    "SearchFn",
    "run_retrieval_eval",
]

LLM_METRICS = JUDGED_METRICS

#: Failures of the whole search, not of one question: the eval stops (and stores nothing).
_FATAL = (EvalError, StoreError, CatalogError, IndexNotFoundError)
NO_JUDGE_REASON = "no judge LLM configured"


@dataclass(frozen=True)
class RetrievedContext:
    """One search hit: the chunk, the document it came from, its text and its score."""

    chunk_id: str
    doc_id: str
    text: str
    score: float


SearchFn = Callable[[list[str], int], list[list[RetrievedContext]]]


@dataclass
class SampleResult:
    """One sample's outcome: the chunk ids retrieved (in rank order) and its metric values.

    A metric is None when it could not be computed for this sample (no references of its
    kind, or ``error`` is set).
    """

    sample_id: str
    question: str
    retrieved: list[str]
    metrics: dict[str, float | None]
    error: str | None = None
    #: The document of each retrieved chunk, in rank order.
    retrieved_docs: list[str] = field(default_factory=list)
    #: The sample's references, as ``doc:<id>`` / ``chunk:<id>``.
    references: list[str] = field(default_factory=list)
    #: The rank (1 = best) at which each reference found was first retrieved, best first.
    hit_ranks: list[int] = field(default_factory=list)


@dataclass
class EvalReport:
    """The summary of one retrieval eval.

    ``metrics`` holds the mean of each metric over the samples where it was computed and
    ``counts`` how many samples that was. ``skipped`` names each metric not computed at all,
    with the reason (LLM-judged metrics without a judge; a metric no sample had references for).
    """

    dataset: str
    k: int
    metrics: dict[str, float]
    samples: list[SampleResult]
    seconds: float
    skipped: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> list[SampleResult]:
        """The samples that failed (search or metric error)."""
        return [s for s in self.samples if s.error]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of the whole report (samples included)."""
        return asdict(self)


def metric_names(ks: Sequence[int]) -> list[str]:
    """Every metric key a report can hold, in display order, for the given cutoffs."""
    names: list[str] = []
    for family in RANK_FAMILIES:
        names.extend(f"{family}@{k}" for k in ks)
    return [*names, "mrr", *RAGAS_METRIC_NAMES]


def run_retrieval_eval(
    samples: Sequence[EvalSample],
    search: SearchFn,
    *,
    k: int = 10,
    ks: Sequence[int] = (1, 5, 10),
    dataset_name: str,
    batch_size: int = 64,
) -> EvalReport:
    """Search every sample's question and score the results.

    ``search(questions, k)`` is called with batches of up to ``batch_size`` questions and must
    return one list of :class:`RetrievedContext` (best first) per question. If a batch raises,
    its questions are retried one by one and the ones that still fail are recorded as errors
    on their :class:`SampleResult`; the run goes on.

    Metrics per sample: ``recall@k``, ``precision@k``, ``hit_rate@k``, ``ndcg@k`` for each k
    in ``ks``, ``mrr`` (over the top ``k``), and the ragas metrics ``id_context_precision``,
    ``id_context_recall`` (top ``k`` vs reference ids) and ``nonllm_context_recall``,
    ``nonllm_context_precision`` (top ``k`` texts vs ``reference_contexts``). ID-based metrics
    need reference doc or chunk ids, text metrics need reference contexts; otherwise they are
    None for that sample and left out of the mean. LLM-judged metrics are listed in
    ``skipped`` ("no judge LLM configured").
    """
    ks = _check_args(samples, k, ks, batch_size)
    started = time.perf_counter()

    hits, search_errors = _search_all(samples, search, k, batch_size)
    searched = time.perf_counter()

    results: list[SampleResult] = []
    ragas_inputs: list[RagasInput] = []
    for sample, contexts, error in zip(samples, hits, search_errors, strict=True):
        top = contexts[:k]
        values: dict[str, float | None] = dict.fromkeys(metric_names(ks))
        ref_keys: list[str] = []
        found: list[int] = []
        if error is None:
            ranked, relevant, ref_keys = _relevance_keys(sample, top)
            if relevant:
                values.update(_rank_metrics(ranked, relevant, k, ks))
                found = _hit_ranks(ranked, relevant)
            ragas_inputs.append(
                RagasInput(
                    retrieved_ids=ranked,
                    reference_ids=ref_keys,
                    retrieved_contexts=[c.text for c in top],
                    reference_contexts=sample.reference_contexts,
                )
            )
        else:
            ragas_inputs.append(RagasInput())
        results.append(
            SampleResult(
                sample_id=sample.id,
                question=sample.question,
                retrieved=[c.chunk_id for c in top],
                metrics=values,
                error=error,
                retrieved_docs=[c.doc_id for c in top],
                references=ref_keys,
                hit_ranks=found,
            )
        )
    ranked_done = time.perf_counter()

    for result, scores in zip(results, score_batch(ragas_inputs), strict=True):
        result.metrics.update(scores.values)
        if scores.errors and result.error is None:
            result.error = "; ".join(f"{n}: {e}" for n, e in scores.errors.items())
    finished = time.perf_counter()

    means, counts, skipped = _summarise(results, ks)
    return EvalReport(
        dataset=dataset_name,
        k=k,
        metrics=means,
        samples=results,
        seconds=finished - started,
        skipped=skipped,
        counts=counts,
        timings={
            "search": searched - started,
            "rank_metrics": ranked_done - searched,
            "ragas_metrics": finished - ranked_done,
        },
    )


def _check_args(
    samples: Sequence[EvalSample], k: int, ks: Sequence[int], batch_size: int
) -> tuple[int, ...]:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise EvalError(f"run_retrieval_eval: k must be a positive integer, got {k!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise EvalError(f"run_retrieval_eval: batch_size must be >= 1, got {batch_size!r}")
    cutoffs = tuple(sorted(set(ks)))
    bad = [c for c in cutoffs if isinstance(c, bool) or not isinstance(c, int) or c < 1]
    if bad or not cutoffs:
        raise EvalError(f"run_retrieval_eval: ks must be positive integers, got {tuple(ks)!r}")
    if cutoffs[-1] > k:
        raise EvalError(
            f"run_retrieval_eval: ks includes {cutoffs[-1]} but only k={k} results are "
            f"retrieved: raise k to {cutoffs[-1]} or drop the larger cutoffs"
        )
    if not samples:
        raise EvalError("run_retrieval_eval: no samples: load an eval set with at least one")
    seen: set[str] = set()
    for sample in samples:
        if sample.id in seen:
            raise EvalError(f"run_retrieval_eval: duplicate sample id {sample.id!r}")
        seen.add(sample.id)
    return cutoffs


def _search_all(
    samples: Sequence[EvalSample], search: SearchFn, k: int, batch_size: int
) -> tuple[list[list[RetrievedContext]], list[str | None]]:
    hits: list[list[RetrievedContext]] = []
    errors: list[str | None] = []
    for start in range(0, len(samples), batch_size):
        questions = [s.question for s in samples[start : start + batch_size]]
        try:
            batch = _call_search(search, questions, k)
            hits.extend(batch)
            errors.extend([None] * len(batch))
        except _FATAL:
            raise
        except Exception:
            for question in questions:  # isolate the question(s) that fail
                try:
                    hits.append(_call_search(search, [question], k)[0])
                    errors.append(None)
                except _FATAL:
                    raise
                except Exception as exc:
                    hits.append([])
                    errors.append(f"search failed: {type(exc).__name__}: {exc}")
    return hits, errors


def _call_search(search: SearchFn, questions: list[str], k: int) -> list[list[RetrievedContext]]:
    result = search(questions, k)
    if not isinstance(result, list | tuple) or len(result) != len(questions):
        got = len(result) if isinstance(result, list | tuple) else type(result).__name__
        raise EvalError(
            f"search returned {got} result lists for {len(questions)} questions: "
            "the search callable must return one list of RetrievedContext per question"
        )
    for contexts in result:
        for item in contexts:
            if not isinstance(item, RetrievedContext):
                raise EvalError(
                    f"search returned a {type(item).__name__} instead of a RetrievedContext: "
                    "wrap each hit as RetrievedContext(chunk_id, doc_id, text, score)"
                )
    return [list(c) for c in result]


def _relevance_keys(
    sample: EvalSample, top: Sequence[RetrievedContext]
) -> tuple[list[str], set[str], list[str]]:
    """Map hits and references into one id space: ``chunk:<id>`` / ``doc:<id>``.

    A hit becomes ``chunk:<chunk_id>`` when that chunk is a reference, else ``doc:<doc_id>``
    when the sample has reference documents (so non-relevant hits count per document, as the
    references do), else ``chunk:<chunk_id>``.
    """
    ref_chunks = set(sample.reference_chunk_ids)
    ref_keys = [f"chunk:{c}" for c in dict.fromkeys(sample.reference_chunk_ids)]
    ref_keys += [f"doc:{d}" for d in dict.fromkeys(sample.reference_doc_ids)]
    ranked = [
        f"chunk:{c.chunk_id}"
        if c.chunk_id in ref_chunks or not sample.reference_doc_ids
        else f"doc:{c.doc_id}"
        for c in top
    ]
    return ranked, set(ref_keys), ref_keys


def _hit_ranks(ranked: list[str], relevant: set[str]) -> list[int]:
    """1-based ranks where a reference is retrieved for the first time."""
    seen: set[str] = set()
    ranks = []
    for rank, key in enumerate(ranked, 1):
        if key in relevant and key not in seen:
            seen.add(key)
            ranks.append(rank)
    return ranks


def _rank_metrics(
    ranked: list[str], relevant: set[str], k: int, ks: Sequence[int]
) -> dict[str, float]:
    values: dict[str, float] = {}
    for cutoff in ks:
        values[f"recall@{cutoff}"] = m.recall_at_k(ranked, relevant, cutoff)
        values[f"precision@{cutoff}"] = m.precision_at_k(ranked, relevant, cutoff)
        values[f"hit_rate@{cutoff}"] = m.hit_rate_at_k(ranked, relevant, cutoff)
        values[f"ndcg@{cutoff}"] = m.ndcg_at_k(ranked, relevant, cutoff)
    values["mrr"] = m.mrr(ranked, relevant, k)
    return values


def _summarise(
    results: Sequence[SampleResult], ks: Sequence[int]
) -> tuple[dict[str, float], dict[str, int], dict[str, str]]:
    means: dict[str, float] = {}
    counts: dict[str, int] = {}
    skipped: dict[str, str] = {}
    for name in metric_names(ks):
        values = [
            v for r in results if (v := r.metrics.get(name)) is not None and not math.isnan(v)
        ]
        counts[name] = len(values)
        if values:
            means[name] = math.fsum(values) / len(values)
        elif all(r.error for r in results):
            skipped[name] = "every sample failed (see the samples' errors)"
        elif name in TEXT_METRICS:
            skipped[name] = "no sample has reference_contexts"
        else:
            skipped[name] = "no sample has reference_doc_ids or reference_chunk_ids"
    for name in LLM_METRICS:
        skipped[name] = NO_JUDGE_REASON
    return means, counts, skipped
