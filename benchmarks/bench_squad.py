"""Retrieval quality and eval speed on SQuAD v1.1 dev: paragraphs as documents, questions as
queries.

Corpus: the 2,067 paragraphs of ../shared/data/squad-v1.1/dev-v1.1.json (48 Wikipedia
articles), each written as one ``.txt`` file into a temporary folder and indexed by a
throwaway ragops project (filesystem connector, default ``sentence`` chunker at ``auto`` size =
the model's 254 content tokens, default model). A paragraph longer than that becomes several
chunks; the metrics count documents, so that does not inflate them.

Eval set: a fixed sample of 1,000 questions (``load_squad(limit=1000, seed=0)``); with
``--all`` also all 10,570. Each question's one reference is its own paragraph; every other
paragraph (most of them from the same article) is a distractor. Scored with
``run_retrieval_eval`` over ``Retriever(project, "bench", version=...).search_many`` at k=10.

Reports indexing seconds, eval seconds (search + metrics), questions/s, recall@1/5/10, MRR,
nDCG@10, hit_rate@5, the ragas ``id_context_recall`` / ``id_context_precision``, and the
chunk count, each with plain dense search and with one hit per document
(``group_by="doc_id"``, the ``*_grouped`` runs); and search latency alone (p50/p99, query
vectors embedded beforehand) for both. There is no official published number for
all-MiniLM-L6-v2 on SQuAD paragraph retrieval (SQuAD is not in BEIR or MTEB retrieval); these
are ragops' own figures.

    python -m benchmarks.bench_squad [--questions 1000] [--all]

``--max-paragraphs N`` indexes only the first N paragraphs (and keeps the sampled questions
about them) for a quick smoke run; its result is printed but not saved.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import ragops
from benchmarks.common import (
    SHARED_DATA,
    peak_rss_mib,
    require,
    save,
    summary_ms,
    write_project,
)

SQUAD_DEV = SHARED_DATA / "squad-v1.1" / "dev-v1.1.json"
K = 10
CUTOFFS = (1, 5, 10)
HEADLINE = (
    "recall@1",
    "recall@5",
    "recall@10",
    "mrr",
    "ndcg@10",
    "hit_rate@5",
    "id_context_recall",
    "id_context_precision",
)
ANCHOR_NOTE = (
    "No official published figure exists for all-MiniLM-L6-v2 on SQuAD v1.1 dev paragraph "
    "retrieval (SQuAD is not part of BEIR or MTEB retrieval); these are ragops' own numbers. "
    "With one reference paragraph per question, recall@k = hit_rate@k and "
    "id_context_recall = recall@10."
)


def file_name(index: int, doc_id: str) -> str:
    """``Super_Bowl_50#3`` (the 17th paragraph) → ``00017-Super_Bowl_50-3.txt``.

    The index prefix keeps names unique whatever the slug does to the title, and never starts
    with a dot (the filesystem connector skips hidden files).
    """
    title, _, paragraph = doc_id.rpartition("#")
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", title).strip("_")[:80] or "untitled"
    return f"{index:05d}-{slug}-{paragraph}.txt"


def write_corpus(folder: Path, paragraphs: list[tuple[str, str]]) -> dict[str, str]:
    """One file per paragraph; returns {squad doc id: file doc id (path relative to folder)}."""
    folder.mkdir(parents=True, exist_ok=True)
    to_file: dict[str, str] = {}
    for index, (doc_id, text) in enumerate(paragraphs):
        name = file_name(index, doc_id)
        (folder / name).write_text(text, encoding="utf-8")
        to_file[doc_id] = name
    return to_file


def _rounded(metrics: dict[str, float]) -> dict[str, float]:
    return {name: round(value, 4) for name, value in metrics.items()}


def evaluate(samples: list, search: Any, name: str) -> dict[str, Any]:
    from ragops.evals import run_retrieval_eval

    report = run_retrieval_eval(samples, search, k=K, ks=CUTOFFS, dataset_name=name)
    n = len(samples)
    metrics = _rounded(report.metrics)
    return {
        "questions": n,
        **{metric: metrics.get(metric) for metric in HEADLINE},
        "eval_seconds": round(report.seconds, 2),
        "eval_stage_seconds": {k: round(v, 2) for k, v in report.timings.items()},
        "questions_per_second": round(n / report.seconds, 1),
        "ms_per_question": round(1000 * report.seconds / n, 2),
        "errors": len(report.errors),
        "metrics": metrics,
        "skipped": report.skipped,
    }


def _search_ms(retriever: Any, vectors: Any, group_by: str | None) -> dict[str, float]:
    """Search time alone (query vectors embedded beforehand), k=10, one query at a time."""
    times = []
    for vector in list(vectors) * 3:
        started = time.perf_counter()
        retriever.search_vector(vector, k=K, group_by=group_by)
        times.append(time.perf_counter() - started)
    return summary_ms(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--all", action="store_true", help="also evaluate all 10,570 questions")
    parser.add_argument("--max-paragraphs", type=int, default=None, help="smoke run; not saved")
    args = parser.parse_args()
    require(SQUAD_DEV)

    from ragops.evals import RetrievedContext, load_squad
    from ragops.project import Project
    from ragops.retriever import Retriever

    paragraphs, sampled = load_squad(SQUAD_DEV, limit=args.questions, seed=args.seed)
    everything: list = []
    if args.all:
        _, everything = load_squad(SQUAD_DEV)
    if args.max_paragraphs:
        paragraphs = paragraphs[: args.max_paragraphs]
    kept_docs = {doc_id for doc_id, _ in paragraphs}

    with tempfile.TemporaryDirectory(prefix="ragops-bench-squad-") as folder:
        corpus = Path(folder) / "corpus"
        to_file = write_corpus(corpus, paragraphs)
        to_squad = {file_id: doc_id for doc_id, file_id in to_file.items()}

        def remap(samples: list) -> list:
            return [
                dataclasses.replace(
                    s, reference_doc_ids=tuple(to_file[d] for d in s.reference_doc_ids)
                )
                for s in samples
                if all(d in kept_docs for d in s.reference_doc_ids)
            ]

        sampled, everything = remap(sampled), remap(everything)

        config = write_project(Path(folder) / "project", corpus, include="**/*.txt")
        started = time.perf_counter()
        project = Project.open(config)
        embedder = project.embedder("bench")
        _ = embedder.info  # load the model outside the timed sync
        model_load = time.perf_counter() - started
        chunker = project.chunker("bench")
        tokens = [len(embedder.tokenize(text)) for _, text in paragraphs]

        started = time.perf_counter()
        [result] = ragops.sync(project, "bench")
        index_seconds = time.perf_counter() - started

        chunks_per_doc: dict[str, int] = {}
        for point in project.store.scroll(result.collection, result.version):
            doc = point.payload["doc_id"]
            chunks_per_doc[doc] = chunks_per_doc.get(doc, 0) + 1

        retriever = Retriever(project, "bench", version=result.version, log=False)

        def searcher(group_by: str | None) -> Any:
            def search(questions: list[str], k: int) -> list[list[RetrievedContext]]:
                return [
                    [RetrievedContext(h.chunk_id, h.doc_id, h.text, h.score) for h in hits]
                    for hits in retriever.search_many(questions, k=k, group_by=group_by)
                ]

            return search

        search, grouped = searcher(None), searcher("doc_id")
        evaluate(sampled[:64], search, "warm-up")  # first inferences and ragas import, untimed
        runs = {"sample": evaluate(sampled, search, f"squad-dev-{len(sampled)}")}
        runs["sample_grouped"] = evaluate(sampled, grouped, f"squad-dev-{len(sampled)}-grouped")
        if args.all:
            runs["all"] = evaluate(everything, search, "squad-dev-all")
            runs["all_grouped"] = evaluate(everything, grouped, "squad-dev-all-grouped")
        vectors = retriever.embed_queries([s.question for s in sampled[:200]])
        search_latency = {
            name: _search_ms(retriever, vectors, group_by)
            for name, group_by in (("dense", None), ("dense_grouped", "doc_id"))
        }
        project.close()

    unmapped = sorted(set(chunks_per_doc) - set(to_squad))
    output: dict[str, Any] = {
        "dataset": str(SQUAD_DEV.relative_to(SHARED_DATA)),
        "model": embedder.info.name,
        "dtype": embedder.resolved_dtype(),
        "chunker": chunker.settings(),
        "search": "exact (below ragops.store.EXACT_SEARCH_BELOW points)",
        "k": K,
        "sample": {"questions": args.questions, "seed": args.seed},
        "paragraphs": len(paragraphs),
        "paragraph_tokens": {
            "median": statistics.median(tokens),
            "max": max(tokens),
            "over_chunk_size": sum(t > chunker.chunk_size for t in tokens),
        },
        "documents_indexed": result.documents.seen,
        "quarantined": result.documents.quarantined,
        "chunks": result.chunks,
        "documents_with_several_chunks": sum(n > 1 for n in chunks_per_doc.values()),
        "unmapped_doc_ids": len(unmapped),
        "model_load_seconds": round(model_load, 2),
        "index_seconds": round(index_seconds, 2),
        "index_stage_seconds": {k: round(v, 2) for k, v in result.timings.items()},
        **runs,
        "search_latency_k10": search_latency,
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "note": ANCHOR_NOTE,
    }
    if args.max_paragraphs:
        print(json.dumps(output, indent=2))
    else:
        save("squad", output)


if __name__ == "__main__":
    main()
