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

Two indexes are built: ``plain`` (each paragraph embedded alone) and ``context`` (its
article's title embedded with it: ``context: {title: true}``; the titles come as ``title``
metadata through a small connector the benchmark writes into its throwaway project). On each,
every retrieval mode is scored: ``dense``, ``sparse`` (BM25), ``hybrid_rrf`` and
``hybrid_dbsf``, each plain and with one hit per document (``group_by="doc_id"``, the
``*_grouped`` runs): recall@1/5/10, MRR, nDCG@10, hit_rate@5, the ragas ``id_context_recall`` /
``id_context_precision``, eval seconds and questions/s; and search latency alone per mode
(p50/p99, dense query vectors embedded beforehand, 200 questions × 3). Indexing seconds per
stage and the BM25 share of the embedding time come with each index. There is no official
published number for all-MiniLM-L6-v2 on SQuAD paragraph retrieval (SQuAD is not in BEIR or
MTEB retrieval); these are ragops' own figures.

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


#: The retrieval modes measured: (name, mode, fusion).
MODES = (
    ("dense", "dense", "rrf"),
    ("sparse", "sparse", "rrf"),
    ("hybrid_rrf", "hybrid", "rrf"),
    ("hybrid_dbsf", "hybrid", "dbsf"),
)

#: A connector giving each paragraph its article's title as ``title`` metadata, so the
#: context variant embeds "Super Bowl 50" with every paragraph of that article.
CONNECTOR = """
import json
from pathlib import Path
from ragops import SourceDocument, connector

@connector("squad")
def squad(manifest: str):
    for doc_id, title, text in json.loads(Path(manifest).read_text(encoding="utf-8")):
        data = text.encode("utf-8")
        yield SourceDocument(doc_id=doc_id, version=str(len(data)), filename=doc_id,
                             load=lambda data=data: data, metadata={"title": title})
"""


def write_squad_project(root: Path, manifest: Path, context: bool) -> Path:
    """A project indexing the paragraphs through the ``squad`` connector into ``bench``."""
    (root / "connectors" / "squad").mkdir(parents=True, exist_ok=True)
    (root / "connectors" / "squad" / "__init__.py").write_text(CONNECTOR, encoding="utf-8")
    flag = "true" if context else "false"
    config = root / "ragops.yaml"
    config.write_text(
        "project: bench\n"
        "sources:\n"
        f"  corpus: {{connector: squad, manifest: '{manifest}'}}\n"
        "indexes:\n"
        "  bench:\n"
        "    sources: [corpus]\n"
        f"    context: {{title: {flag}, headings: {flag}}}\n",
        encoding="utf-8",
    )
    return config


def with_fusion(project: Any, fusion: str) -> None:
    """Make the project's ``bench`` index fuse by ``fusion`` (query-side: no rebuild)."""
    index = project.config.indexes["bench"]
    retrieval = index.retrieval.model_copy(update={"fusion": fusion})
    project.config.indexes["bench"] = index.model_copy(update={"retrieval": retrieval})


def _search_ms(retriever: Any, questions: list[str], mode: str, group_by: str | None) -> dict:
    """Search time alone (query vectors embedded beforehand: the dense model is warm and
    its time is left out), k=10, one query at a time."""
    vectors = retriever.embed_queries(questions)
    embedded = {q: v for q, v in zip(questions, vectors, strict=True)}
    retriever.project.batch_queries = False
    original = retriever._embed
    retriever._embed = lambda generation, queries: [embedded[q] for q in queries]
    times = []
    try:
        for question in questions * 3:
            started = time.perf_counter()
            retriever.search(question, k=K, mode=mode, group_by=group_by)
            times.append(time.perf_counter() - started)
    finally:
        retriever._embed = original
    return summary_ms(times)


def searcher(retriever: Any, mode: str, group_by: str | None) -> Any:
    """An eval ``search`` callable over the retriever in one mode (grouped or not)."""
    from ragops.evals import RetrievedContext

    def run(questions: list[str], k: int) -> list[list[RetrievedContext]]:
        found = retriever.search_many(questions, k=k, group_by=group_by, mode=mode)
        return [
            [RetrievedContext(h.chunk_id, h.doc_id, h.text, h.score) for h in hits]
            for hits in found
        ]

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--all", action="store_true", help="also evaluate all 10,570 questions")
    parser.add_argument("--max-paragraphs", type=int, default=None, help="smoke run; not saved")
    args = parser.parse_args()
    require(SQUAD_DEV)

    from ragops.evals import load_squad
    from ragops.project import Project
    from ragops.retriever import Retriever

    paragraphs, sampled = load_squad(SQUAD_DEV, limit=args.questions, seed=args.seed)
    everything: list = []
    if args.all:
        _, everything = load_squad(SQUAD_DEV)
    if args.max_paragraphs:
        paragraphs = paragraphs[: args.max_paragraphs]
    kept_docs = {doc_id for doc_id, _ in paragraphs}
    to_file = {doc_id: file_name(n, doc_id) for n, (doc_id, _) in enumerate(paragraphs)}
    to_squad = {file_id: doc_id for doc_id, file_id in to_file.items()}

    def remap(samples: list) -> list:
        return [
            dataclasses.replace(s, reference_doc_ids=tuple(to_file[d] for d in s.reference_doc_ids))
            for s in samples
            if all(d in kept_docs for d in s.reference_doc_ids)
        ]

    sampled, everything = remap(sampled), remap(everything)
    variants: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ragops-bench-squad-") as folder:
        manifest = Path(folder) / "paragraphs.json"
        manifest.write_text(
            json.dumps([
                (to_file[doc_id], doc_id.rpartition("#")[0].replace("_", " "), text)
                for doc_id, text in paragraphs
            ]),
            encoding="utf-8",
        )  # fmt: skip
        for variant, context in (("plain", False), ("context", True)):
            config = write_squad_project(Path(folder) / variant, manifest, context)
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

            evaluate(sampled[:64], searcher(retriever, "hybrid", None), "warm-up")  # untimed
            runs: dict[str, Any] = {}
            latency: dict[str, Any] = {}
            questions = [s.question for s in sampled[:200]]
            for name, mode, fusion in MODES:
                with_fusion(project, fusion)
                for suffix, group_by in (("", None), ("_grouped", "doc_id")):
                    search = searcher(retriever, mode, group_by)
                    runs[f"sample_{name}{suffix}"] = evaluate(sampled, search, name + suffix)
                    if args.all:
                        runs[f"all_{name}{suffix}"] = evaluate(everything, search, name + suffix)
                    latency[f"{name}{suffix}"] = _search_ms(retriever, questions, mode, group_by)
            with_fusion(project, "rrf")
            variants[variant] = {
                "context": {"title": context, "headings": context},
                "model_load_seconds": round(model_load, 2),
                "index_seconds": round(index_seconds, 2),
                "index_stage_seconds": {k: round(v, 2) for k, v in result.timings.items()},
                "sparse_share_of_embedding": round(
                    result.timings.get("sparse", 0.0) / max(result.timings["embed"], 1e-9), 4
                ),
                "chunks": result.chunks,
                "documents_indexed": result.documents.seen,
                "quarantined": result.documents.quarantined,
                "documents_with_several_chunks": sum(n > 1 for n in chunks_per_doc.values()),
                **runs,
                "search_latency_k10": latency,
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
        "unmapped_doc_ids": len(unmapped),
        **variants,
        "peak_rss_mib": round(peak_rss_mib(), 1),
        "note": ANCHOR_NOTE,
    }
    if args.max_paragraphs:
        print(json.dumps(output, indent=2))
    else:
        save("squad", output)


if __name__ == "__main__":
    main()
