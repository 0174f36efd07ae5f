"""Retrieval modes on the Hugging Face Hub docs with ragas' hf_doc_qa_eval questions.

Corpus: the 360 markdown pages of ../shared/data/hf-hub-docs (markdown chunker, so each chunk
has a heading path). Questions: ../shared/data/qa-small/hf_doc_qa_eval.csv has 66 questions
with expected answers and no retrieval labels, and most are about other libraries' docs. A
question is kept when its expected answer (whitespace and case normalized, at least 4
characters) appears verbatim in 1 to 3 pages: those pages are its relevant documents. The kept
count is reported; it is small, so read the figures as a sanity check of the SQuAD ones
(``bench_squad``), not as a benchmark of their own.

Two indexes, ``plain`` and ``context`` (title and heading path embedded with each chunk), each
scored in every mode (dense, sparse, hybrid RRF, hybrid DBSF), with and without one hit per
document, at k = 10.

    python -m benchmarks.bench_hf_docs_qa
"""

from __future__ import annotations

import csv
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import ragops
from benchmarks.bench_squad import MODES, evaluate, searcher, with_fusion
from benchmarks.common import HF_DOCS, SHARED_DATA, require, save, write_project

QUESTIONS = SHARED_DATA / "qa-small" / "hf_doc_qa_eval.csv"
HEADLINE = ("questions", "ndcg@10", "recall@5", "recall@10", "mrr")


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def labelled_samples(pages: dict[str, str]) -> tuple[list[Any], int]:
    """The questions whose answer appears verbatim in 1 to 3 pages (those are relevant)."""
    from ragops.evals.sets import EvalSample

    with QUESTIONS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = {name: normalized(text) for name, text in pages.items()}
    samples = []
    for n, row in enumerate(rows):
        answer = normalized(row["expected_answer"]).rstrip(".")
        if len(answer) < 4:
            continue
        found = sorted(name for name, text in texts.items() if answer in text)
        if 1 <= len(found) <= 3:
            samples.append(
                EvalSample(
                    id=str(n), question=row["question"].strip(), reference_doc_ids=tuple(found)
                )
            )
    return samples, len(rows)


def main() -> None:
    require(HF_DOCS)
    require(QUESTIONS)
    from ragops.project import Project
    from ragops.retriever import Retriever

    pages = {
        str(path.relative_to(HF_DOCS)): path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(HF_DOCS.rglob("*.md"))
    }
    samples, asked = labelled_samples(pages)
    variants: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ragops-bench-hfqa-") as folder:
        for variant, context in (("plain", False), ("context", True)):
            config = write_project(Path(folder) / variant, HF_DOCS, chunker="markdown")
            flag = "true" if context else "false"
            config.write_text(
                config.read_text(encoding="utf-8").replace(
                    "chunker: {kind: markdown}}",
                    f"chunker: {{kind: markdown}}, context: {{title: {flag}, headings: {flag}}}}}",
                ),
                encoding="utf-8",
            )
            project = Project.open(config)
            _ = project.embedder("bench").info
            started = time.perf_counter()
            [result] = ragops.sync(project, "bench")
            seconds = time.perf_counter() - started
            retriever = Retriever(project, "bench", version=result.version, log=False)
            runs: dict[str, Any] = {}
            for name, mode, fusion in MODES:
                with_fusion(project, fusion)
                for suffix, group_by in (("", None), ("_grouped", "doc_id")):
                    run = evaluate(samples, searcher(retriever, mode, group_by), name + suffix)
                    runs[name + suffix] = {key: run[key] for key in HEADLINE}
            variants[variant] = {
                "chunks": result.chunks,
                "index_seconds": round(seconds, 1),
                "runs": runs,
            }
            project.close()
    save(
        "hf_docs_qa",
        {
            "corpus": str(HF_DOCS.relative_to(SHARED_DATA)),
            "pages": len(pages),
            "questions_asked": asked,
            "questions_labelled": len(samples),
            "labels": "pages holding the expected answer verbatim (1 to 3 of them)",
            **variants,
        },
    )


if __name__ == "__main__":
    main()
