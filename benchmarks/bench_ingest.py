"""Ingest ../shared/data/hf-hub-docs (360 markdown files) and compare with pure embedding.

Reports wall seconds, docs/s, chunks/s, the ratio of the sync's wall time to the time
``model.encode`` alone takes on the same chunk texts in the same process, peak RSS, and the
search latency (query embedding and vector search, separately) over 200 queries.

    python -m benchmarks.bench_ingest [--queries 200]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import ragops
from benchmarks.common import (
    HF_DOCS,
    SHARED_DATA,
    peak_rss_mib,
    require,
    save,
    summary_ms,
    write_project,
)


def _queries(limit: int) -> list[str]:
    """Questions about the HF docs (the ragas set), then 'How do I …' from page titles."""
    questions: list[str] = []
    with (SHARED_DATA / "qa-small" / "hf_doc_qa_eval.csv").open(encoding="utf-8") as handle:
        questions.extend(
            row["question"].strip() for row in csv.DictReader(handle) if row["question"].strip()
        )
    for page in sorted(HF_DOCS.rglob("*.md")):
        for line in page.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("# "):
                questions.append(f"How do I use {line[2:].strip()}?")
                break
        if len(questions) >= limit:
            break
    return questions[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    require(HF_DOCS)

    from ragops.project import Project
    from ragops.retriever import Retriever

    with tempfile.TemporaryDirectory(prefix="ragops-bench-") as folder:
        config = write_project(Path(folder), HF_DOCS)
        started = time.perf_counter()
        project = Project.open(config)
        _ = project.embedder("bench").info  # load the model outside the timed sync
        model_load = time.perf_counter() - started

        started = time.perf_counter()
        [result] = ragops.sync(project, "bench")
        sync_seconds = time.perf_counter() - started

        collection = result.collection
        texts = [p.payload["text"] for p in project.store.scroll(collection, result.version)]
        embedder = project.embedder("bench")
        started = time.perf_counter()
        embedder.embed_documents(texts)
        pure_embed = time.perf_counter() - started

        started = time.perf_counter()
        [noop] = ragops.sync(project, "bench")
        noop_seconds = time.perf_counter() - started

        retriever = Retriever(project, "bench", version=result.version)
        queries = _queries(args.queries)
        embed_times, search_times, total_times = [], [], []
        for query in queries:
            t0 = time.perf_counter()
            vector = retriever.embed_queries([query])[0]
            t1 = time.perf_counter()
            retriever.search_vector(vector, k=10)
            t2 = time.perf_counter()
            embed_times.append(t1 - t0)
            search_times.append(t2 - t1)
            total_times.append(t2 - t0)
        project.close()

    documents = result.documents.seen
    save(
        "ingest",
        {
            "corpus": str(HF_DOCS.relative_to(SHARED_DATA)),
            "documents": documents,
            "quarantined": result.documents.quarantined,
            "chunks": result.chunks,
            "dtype": embedder.resolved_dtype(),
            "model_load_seconds": round(model_load, 2),
            "sync_seconds": round(sync_seconds, 2),
            "docs_per_second": round(documents / sync_seconds, 2),
            "chunks_per_second": round(result.chunks / sync_seconds, 2),
            "pure_embedding_seconds": round(pure_embed, 2),
            "ratio_sync_to_pure_embedding": round(sync_seconds / pure_embed, 3),
            "stage_seconds": result.timings,
            "noop_resync_seconds": round(noop_seconds, 3),
            "noop_resync_embedded": noop.embedded,
            "search": {
                "queries": len(queries),
                "query_embedding": summary_ms(embed_times),
                "vector_search": summary_ms(search_times),
                "total": summary_ms(total_times),
            },
            "peak_rss_mib": round(peak_rss_mib(), 1),
        },
    )


if __name__ == "__main__":
    main()
