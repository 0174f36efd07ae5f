"""The retrieval eval runner with a fake retriever (the caller's search callable)."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from ragops.errors import EvalError
from ragops.evals import (
    LLM_METRICS,
    EvalSample,
    RagasInput,
    RetrievedContext,
    id_context_precision,
    id_context_recall,
    nonllm_context_precision,
    nonllm_context_recall,
    run_retrieval_eval,
    score_batch,
)

PARA_1 = "Promotion moves an environment pointer to an index version without re-embedding."
PARA_2 = "Each index version is an immutable snapshot inside one generation of a collection."
PARA_3 = "Connectors list documents from a source and report a version marker for each one."


def ctx(chunk_id: str, doc_id: str, text: str = "") -> RetrievedContext:
    return RetrievedContext(chunk_id=chunk_id, doc_id=doc_id, text=text or chunk_id, score=1.0)


class FakeSearch:
    """A retriever answering from a table, recording how it was called."""

    def __init__(self, table: dict[str, list[RetrievedContext]], fail_on: str | None = None):
        self.table = table
        self.fail_on = fail_on
        self.calls: list[tuple[list[str], int]] = []

    def __call__(self, questions: list[str], k: int) -> list[list[RetrievedContext]]:
        self.calls.append((list(questions), k))
        if self.fail_on is not None and self.fail_on in questions:
            raise RuntimeError("index unavailable")
        return [self.table.get(q, [])[:k] for q in questions]


SAMPLES = [
    # doc-level reference; 3 chunks of the reference document come back
    EvalSample(id="doc", question="q-doc", reference_doc_ids=("d1",)),
    # chunk-level reference, found at rank 1
    EvalSample(id="chunk", question="q-chunk", reference_chunk_ids=("c9",)),
    # text-only reference: rank metrics cannot be computed
    EvalSample(id="text", question="q-text", reference_contexts=(PARA_1,)),
]
TABLE = {
    "q-doc": [ctx("d2#0", "d2"), ctx("d1#0", "d1"), ctx("d1#1", "d1")],
    "q-chunk": [ctx("c9", "d5"), ctx("c1", "d5"), ctx("c2", "d6")],
    "q-text": [ctx("x", "dx", PARA_3), ctx("y", "dy", PARA_1), ctx("z", "dz", PARA_2)],
}


def run(samples: Sequence[EvalSample] = SAMPLES, **kwargs):  # type: ignore[no-untyped-def]
    search = kwargs.pop("search", None) or FakeSearch(TABLE)
    kwargs.setdefault("k", 3)
    kwargs.setdefault("ks", (1, 3))
    return run_retrieval_eval(samples, search, dataset_name="unit", **kwargs)


def test_per_sample_metrics_by_hand() -> None:
    report = run()
    by_id = {s.sample_id: s for s in report.samples}

    doc = by_id["doc"].metrics
    assert by_id["doc"].retrieved == ["d2#0", "d1#0", "d1#1"]
    assert doc["recall@1"] == 0.0 and doc["recall@3"] == 1.0
    assert doc["hit_rate@1"] == 0.0 and doc["hit_rate@3"] == 1.0
    assert doc["precision@3"] == pytest.approx(1 / 3)  # d1 is found once, not twice
    assert doc["mrr"] == 0.5
    assert doc["ndcg@3"] == pytest.approx(1 / math.log2(3))
    # ragas on document ids: distinct retrieved {d2, d1}, one of them a reference
    assert doc["id_context_precision"] == 0.5
    assert doc["id_context_recall"] == 1.0
    assert doc["nonllm_context_recall"] is None and doc["nonllm_context_precision"] is None

    chunk = by_id["chunk"].metrics
    assert chunk["recall@1"] == 1.0 and chunk["mrr"] == 1.0 and chunk["ndcg@3"] == 1.0
    assert chunk["precision@3"] == pytest.approx(1 / 3)
    assert chunk["id_context_precision"] == pytest.approx(1 / 3)
    assert chunk["id_context_recall"] == 1.0

    text = by_id["text"].metrics
    assert text["mrr"] is None and text["recall@3"] is None and text["id_context_recall"] is None
    assert text["nonllm_context_recall"] == 1.0
    # the reference text is retrieved at rank 2 only: AP = (1/2) / 1
    assert text["nonllm_context_precision"] == pytest.approx(0.5)
    assert all(s.error is None for s in report.samples)


def test_means_counts_and_skipped() -> None:
    report = run()
    assert report.dataset == "unit" and report.k == 3
    assert report.metrics["mrr"] == pytest.approx(0.75)
    assert report.metrics["recall@1"] == pytest.approx(0.5)
    assert report.metrics["id_context_precision"] == pytest.approx((0.5 + 1 / 3) / 2)
    assert report.counts["mrr"] == 2
    assert report.counts["nonllm_context_recall"] == 1
    assert report.metrics["nonllm_context_recall"] == 1.0
    for name in LLM_METRICS:
        assert report.skipped[name] == "no judge LLM configured"
        assert name not in report.metrics
    assert set(report.skipped) == set(LLM_METRICS)
    assert report.seconds > 0 and set(report.timings) == {"search", "rank_metrics", "ragas_metrics"}
    assert json.loads(json.dumps(report.to_dict()))["metrics"]["mrr"] == pytest.approx(0.75)


def test_metrics_without_any_references_are_skipped_not_zero() -> None:
    report = run(SAMPLES[:2])
    assert "nonllm_context_recall" not in report.metrics
    assert report.counts["nonllm_context_recall"] == 0
    assert report.skipped["nonllm_context_recall"] == "no sample has reference_contexts"
    assert report.skipped["nonllm_context_precision"] == "no sample has reference_contexts"


def test_perfect_and_useless_retrieval() -> None:
    sample = EvalSample(
        id="s",
        question="q",
        reference_chunk_ids=("a", "b"),
        reference_contexts=(PARA_1, PARA_2),
    )
    perfect = {"q": [ctx("a", "d", PARA_1), ctx("b", "d", PARA_2)]}
    report = run([sample], search=FakeSearch(perfect), k=2, ks=(1, 2))
    for name in (
        "recall@2",
        "precision@2",
        "hit_rate@1",
        "ndcg@2",
        "mrr",
        "id_context_precision",
        "id_context_recall",
        "nonllm_context_recall",
    ):
        assert report.metrics[name] == 1.0, name
    # ragas' average precision divides by (hits + 1e-10)
    assert report.metrics["nonllm_context_precision"] == pytest.approx(1.0, abs=1e-9)

    useless = {"q": [ctx("x", "e", PARA_3), ctx("y", "e", "completely unrelated words")]}
    report = run([sample], search=FakeSearch(useless), k=2, ks=(1, 2))
    assert all(value == 0.0 for value in report.metrics.values()), report.metrics

    empty = run([sample], search=FakeSearch({}), k=2, ks=(1, 2))
    assert all(value == 0.0 for value in empty.metrics.values()), empty.metrics
    assert empty.samples[0].retrieved == []


def test_doc_and_chunk_references_together() -> None:
    sample = EvalSample(
        id="m", question="q", reference_doc_ids=("d1",), reference_chunk_ids=("c7",)
    )
    hits = {"q": [ctx("c7", "d9"), ctx("x", "d3"), ctx("d1#4", "d1")]}
    values = run([sample], search=FakeSearch(hits)).samples[0].metrics
    assert values["recall@1"] == 0.5 and values["recall@3"] == 1.0
    assert values["precision@3"] == pytest.approx(2 / 3)
    assert values["id_context_recall"] == 1.0
    assert values["id_context_precision"] == pytest.approx(2 / 3)


def test_search_is_batched_and_given_k() -> None:
    samples = [EvalSample(id=str(i), question=f"q{i}", reference_doc_ids=("d",)) for i in range(5)]
    search = FakeSearch({})
    run(samples, search=search, batch_size=2, k=7, ks=(1, 5))
    assert [len(q) for q, _ in search.calls] == [2, 2, 1]
    assert {k for _, k in search.calls} == {7}
    assert [q for batch, _ in search.calls for q in batch] == [f"q{i}" for i in range(5)]


def test_a_failing_question_is_isolated_and_reported() -> None:
    search = FakeSearch(TABLE, fail_on="q-chunk")
    report = run(search=search)
    by_id = {s.sample_id: s for s in report.samples}
    assert by_id["chunk"].error == "search failed: RuntimeError: index unavailable"
    assert all(v is None for v in by_id["chunk"].metrics.values())
    assert by_id["doc"].error is None and by_id["doc"].metrics["mrr"] == 0.5
    assert report.counts["mrr"] == 1 and report.metrics["mrr"] == 0.5
    assert [s.sample_id for s in report.errors] == ["chunk"]


def test_contract_violations_raise() -> None:
    with pytest.raises(EvalError, match="returned 0 result lists for 3 questions"):
        run(search=lambda questions, k: [])
    with pytest.raises(EvalError, match="instead of a RetrievedContext"):
        run(search=lambda questions, k: [["chunk-id"] for _ in questions])
    with pytest.raises(EvalError, match="ks includes 10 but only k=3"):
        run(ks=(1, 10))
    with pytest.raises(EvalError, match="no samples"):
        run([])
    with pytest.raises(EvalError, match="duplicate sample id 'doc'"):
        run([SAMPLES[0], SAMPLES[0]])


# --------------------------------------------------------------------------- ragas wrappers


def test_ragas_wrappers_by_hand() -> None:
    assert id_context_precision(["a", "b", "c", "a"], ["a", "z"]) == pytest.approx(1 / 3)
    assert id_context_recall(["a", "b", "c"], ["a", "z"]) == 0.5
    assert nonllm_context_recall([PARA_1, PARA_3], [PARA_1, PARA_2]) == 0.5
    assert nonllm_context_precision([PARA_3, PARA_1], [PARA_1]) == pytest.approx(0.5)
    with pytest.raises(EvalError, match="undefined for this input"):
        id_context_recall(["a"], [])


def test_text_metrics_compare_whole_strings() -> None:
    """ragas' non-LLM text metrics use whole-string Levenshtein similarity: a reference
    sentence inside a longer retrieved chunk does NOT count as retrieved."""
    chunk = " ".join([PARA_2, PARA_1, PARA_3])
    assert nonllm_context_recall([chunk], [PARA_1]) == 0.0


def test_score_batch_inside_a_running_event_loop() -> None:
    async def main() -> list[float | None]:
        scores = score_batch([RagasInput(["a"], ["a"]), RagasInput()])
        return [scores[0].values["id_context_recall"], scores[1].values["id_context_recall"]]

    assert asyncio.run(main()) == [1.0, None]


def test_ragas_runs_offline_with_telemetry_off() -> None:
    """In a clean process: loading ragas turns its telemetry off and points tiktoken at the
    encodings LlamaIndex ships; a value the user set is kept."""
    code = (
        "import json, os\n"
        "from ragops.evals import RagasInput, score_batch\n"
        "before = os.environ.get('RAGAS_DO_NOT_TRACK')\n"
        "[scores] = score_batch([RagasInput(['a'], ['a'])])\n"
        "print(json.dumps([before, os.environ.get('RAGAS_DO_NOT_TRACK'),"
        " os.environ.get('TIKTOKEN_CACHE_DIR'), os.environ.get('DO_NOT_TRACK'),"
        " scores.values['id_context_recall']]))\n"
    )
    names = ("RAGAS_DO_NOT_TRACK", "TIKTOKEN_CACHE_DIR", "DO_NOT_TRACK")
    env = {k: v for k, v in os.environ.items() if k not in names}
    env["DO_NOT_TRACK"] = "yes"  # the user's own value
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    before, after, cache, do_not_track, recall = json.loads(result.stdout.strip().splitlines()[-1])
    assert (before, after, do_not_track, recall) == (None, "true", "yes", 1.0)
    assert Path(cache).is_dir() and any(Path(cache).iterdir())


def test_importing_evals_does_not_import_ragas() -> None:
    src = Path(__file__).resolve().parents[2] / "src"
    code = "import sys, ragops.evals; print('ragas' in sys.modules)"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    assert out.stdout.strip() == "False"
