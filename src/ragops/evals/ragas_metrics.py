"""ragas 0.4.3's non-LLM retrieval metrics, offline, as plain floats.

Four metrics, none of which needs an LLM or embeddings:

``id_context_precision``  ragas ``IDBasedContextPrecision``
    ``|set(retrieved_ids) ∩ set(reference_ids)| / |set(retrieved_ids)|``
``id_context_recall``     ragas ``IDBasedContextRecall``
    ``|set(reference_ids) ∩ set(retrieved_ids)| / |set(reference_ids)|``
``nonllm_context_recall`` ragas ``NonLLMContextRecall``
    fraction of reference contexts whose best string similarity to a retrieved context
    is ``> 0.5``
``nonllm_context_precision`` ragas ``NonLLMContextPrecisionWithReference``
    average precision over the retrieved contexts, a retrieved context counting as relevant
    when its best similarity to a reference context is ``>= 0.5``

String similarity is ``1 - normalised Levenshtein distance`` over the *whole* strings
(rapidfuzz), so a reference context only matches a retrieved context of similar length and
content: a one-sentence reference inside a 1,000-character chunk does not match.

API notes (ragas 0.4.3): these four classes exist only in the legacy ``ragas.metrics``
namespace (``SingleTurnMetric``, scored with ``single_turn_ascore(SingleTurnSample)``);
``ragas.metrics.collections`` has only the LLM-judged ``ContextPrecision``/``ContextRecall``.
Reading them from ``ragas.metrics`` warns that the name is deprecated in favour of
``collections``; the warning is silenced here because there is no replacement yet.

ragas is imported lazily (about 2 s) and only after :func:`configure_ragas_env` has turned
telemetry off and pointed tiktoken at LlamaIndex's bundled encodings, so nothing is fetched
from the network.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import math
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ragops.errors import EvalError

__all__ = [
    "RAGAS_METRIC_NAMES",
    "RagasInput",
    "RagasScores",
    "configure_ragas_env",
    "id_context_precision",
    "id_context_recall",
    "nonllm_context_precision",
    "nonllm_context_recall",
    "score_batch",
]

ID_METRICS = ("id_context_precision", "id_context_recall")
TEXT_METRICS = ("nonllm_context_recall", "nonllm_context_precision")
RAGAS_METRIC_NAMES: tuple[str, ...] = ID_METRICS + TEXT_METRICS

_lock = threading.Lock()
_metrics: dict[str, Any] | None = None


@dataclass(frozen=True)
class RagasInput:
    """What one sample gives the ragas metrics. ``None`` or empty references skip a kind."""

    retrieved_ids: Sequence[str] = ()
    reference_ids: Sequence[str] = ()
    retrieved_contexts: Sequence[str] = ()
    reference_contexts: Sequence[str] = ()


@dataclass
class RagasScores:
    """One sample's ragas scores: a value (None = not computed) and any error per metric."""

    values: dict[str, float | None] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def tiktoken_cache_dir() -> str | None:
    """The tiktoken encodings LlamaIndex ships (``llama_index/core/_static/tiktoken_cache``)."""
    spec = importlib.util.find_spec("llama_index.core")  # locates it without importing it
    if spec is None or spec.origin is None:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "_static", "tiktoken_cache")
    return path if os.path.isdir(path) else None


def configure_ragas_env() -> None:
    """Turn ragas telemetry off and keep tiktoken offline. Called before ragas is imported
    (ragas reads these at import; the first ragas metric computed calls it).

    Sets ``RAGAS_DO_NOT_TRACK=true``, ``DO_NOT_TRACK=1`` and ``TIKTOKEN_CACHE_DIR`` =
    LlamaIndex's bundled encodings; a value the user set explicitly is kept.
    """
    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    cache = tiktoken_cache_dir()
    if cache and not os.environ.get("TIKTOKEN_CACHE_DIR"):
        os.environ["TIKTOKEN_CACHE_DIR"] = cache


def _load_metrics() -> dict[str, Any]:
    """Import ragas (once, lazily) and build the four metric objects."""
    global _metrics
    with _lock:
        if _metrics is not None:
            return _metrics
        configure_ragas_env()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import ragas._analytics as analytics
                from ragas import metrics as rm
                from ragas.dataset_schema import SingleTurnSample

                # do_not_track() is lru_cached: forget a value read before our env was set.
                analytics.do_not_track.cache_clear()
                built = {
                    "id_context_precision": rm.IDBasedContextPrecision(),
                    "id_context_recall": rm.IDBasedContextRecall(),
                    "nonllm_context_recall": rm.NonLLMContextRecall(),
                    "nonllm_context_precision": rm.NonLLMContextPrecisionWithReference(),
                }
        except ImportError as exc:
            raise EvalError(
                f"cannot import ragas ({exc}): ragops needs ragas==0.4.3 with "
                "langchain-community<0.4; reinstall ragops' dependencies"
            ) from exc
        built["_sample_cls"] = SingleTurnSample
        _metrics = built
        return built


def _clean(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


async def _score_one(item: RagasInput, metrics: dict[str, Any]) -> RagasScores:
    sample_cls = metrics["_sample_cls"]
    scores = RagasScores()
    jobs: dict[str, Any] = {}
    if item.reference_ids:
        if not item.retrieved_ids:
            # ragas answers NaN (precision) for an empty retrieval; nothing found is 0.
            scores.values.update(dict.fromkeys(ID_METRICS, 0.0))
        else:
            sample = sample_cls(
                retrieved_context_ids=[str(i) for i in item.retrieved_ids],
                reference_context_ids=[str(i) for i in item.reference_ids],
            )
            jobs.update({name: sample for name in ID_METRICS})
    else:
        scores.values.update(dict.fromkeys(ID_METRICS))
    if item.reference_contexts:
        if not item.retrieved_contexts:
            # ragas raises on max([]) for an empty retrieval; nothing found is 0.
            scores.values.update(dict.fromkeys(TEXT_METRICS, 0.0))
        else:
            sample = sample_cls(
                retrieved_contexts=list(item.retrieved_contexts),
                reference_contexts=list(item.reference_contexts),
            )
            jobs.update({name: sample for name in TEXT_METRICS})
    else:
        scores.values.update(dict.fromkeys(TEXT_METRICS))
    for name, sample in jobs.items():
        try:
            scores.values[name] = _clean(await metrics[name].single_turn_ascore(sample))
        except Exception as exc:  # one bad sample must not sink the whole eval
            scores.values[name] = None
            scores.errors[name] = f"{type(exc).__name__}: {exc}"
    return scores


async def _score_all(items: Sequence[RagasInput], metrics: dict[str, Any]) -> list[RagasScores]:
    return list(await asyncio.gather(*(_score_one(item, metrics) for item in items)))


def score_batch(items: Sequence[RagasInput]) -> list[RagasScores]:
    """Score many samples with the four ragas metrics in one event loop.

    Returns one :class:`RagasScores` per input, in order. A metric is None for a sample
    that lacks references of its kind (ids for the ID metrics, texts for the text metrics);
    an empty retrieval scores 0.0. Safe to call from inside a running event loop (it then
    runs in a worker thread). Costs roughly 0.05 ms per sample for each ID metric and
    0.2 ms+ per text metric (Levenshtein, grows with context length × count).
    """
    if not items:
        return []
    metrics = _load_metrics()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_score_all(items, metrics))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _score_all(items, metrics)).result()


def _single(name: str, item: RagasInput) -> float:
    result = score_batch([item])[0]
    if name in result.errors:
        raise EvalError(f"ragas {name} failed: {result.errors[name]}")
    value = result.values.get(name)
    if value is None:
        raise EvalError(f"ragas {name} is undefined for this input: give non-empty references")
    return value


def id_context_precision(retrieved_ids: Sequence[str], reference_ids: Sequence[str]) -> float:
    """ragas IDBasedContextPrecision: share of distinct retrieved ids that are references."""
    return _single("id_context_precision", RagasInput(retrieved_ids, reference_ids))


def id_context_recall(retrieved_ids: Sequence[str], reference_ids: Sequence[str]) -> float:
    """ragas IDBasedContextRecall: share of distinct reference ids that were retrieved."""
    return _single("id_context_recall", RagasInput(retrieved_ids, reference_ids))


def nonllm_context_recall(
    retrieved_contexts: Sequence[str], reference_contexts: Sequence[str]
) -> float:
    """ragas NonLLMContextRecall: share of reference texts matched (similarity > 0.5)."""
    item = RagasInput(retrieved_contexts=retrieved_contexts, reference_contexts=reference_contexts)
    return _single("nonllm_context_recall", item)


def nonllm_context_precision(
    retrieved_contexts: Sequence[str], reference_contexts: Sequence[str]
) -> float:
    """ragas NonLLMContextPrecisionWithReference: average precision of the retrieved texts."""
    item = RagasInput(retrieved_contexts=retrieved_contexts, reference_contexts=reference_contexts)
    return _single("nonllm_context_precision", item)
