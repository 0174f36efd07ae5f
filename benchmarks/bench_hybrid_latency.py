"""Search latency per retrieval mode at 2,000 and 10,000 points (the embedded engine).

Points carry random unit 384-d dense vectors and the BM25 vectors of real text (SQuAD dev
paragraphs, cycled), in one version; queries are 300 SQuAD questions (their BM25 vectors) with
random dense vectors. Each mode runs every query once after a warm-up: the store's ``query``
alone (no model call, no retriever), k = 10. The target: hybrid p50 at most dense p50 + 3 ms.

    python -m benchmarks.bench_hybrid_latency
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid

import numpy as np

from benchmarks.common import SHARED_DATA, require, save, summary_ms

SQUAD_DEV = SHARED_DATA / "squad-v1.1" / "dev-v1.1.json"
SIZES = (2_000, 10_000)
MODES = ("dense", "sparse", "hybrid_rrf", "hybrid_dbsf")


def main() -> None:
    require(SQUAD_DEV)
    from ragops.store import OPEN, PointRecord, SearchQuery
    from ragops.store.edge import EdgeStore
    from ragops.vectors.sparse import SparseEncoder

    data = json.loads(SQUAD_DEV.read_text(encoding="utf-8"))
    paragraphs = [p["context"] for a in data["data"] for p in a["paragraphs"]]
    questions = [q["question"] for a in data["data"] for p in a["paragraphs"] for q in p["qas"]]
    questions = questions[::35][:300]
    encoder = SparseEncoder({"language": "english"})
    rng = np.random.default_rng(0)
    results = {}
    for size in SIZES:
        texts = [paragraphs[i % len(paragraphs)] for i in range(size)]
        dense = rng.standard_normal((size, 384)).astype(np.float32)
        dense /= np.linalg.norm(dense, axis=1, keepdims=True)
        sparse = encoder.documents(texts)
        with tempfile.TemporaryDirectory() as folder, EdgeStore(folder) as store:
            store.create_collection("c", 384, "cosine", sparse=True)
            store.upsert(
                "c",
                [
                    PointRecord(str(uuid.uuid4()), dense[i].tolist(),
                                {"doc_id": str(i), "v_from": 1, "v_to": OPEN}, sparse[i])
                    for i in range(size)
                ],
            )  # fmt: skip
            store.optimize("c")
            vectors = rng.standard_normal((len(questions), 384)).astype(np.float32)
            timings = {}
            for mode in MODES:
                requests = [
                    SearchQuery(
                        dense=None if mode == "sparse" else vector.tolist(),
                        sparse=None if mode == "dense" else encoder.query(question),
                        fusion="dbsf" if mode == "hybrid_dbsf" else "rrf",
                    )
                    for question, vector in zip(questions, vectors, strict=True)
                ]
                for request in requests[:20]:
                    store.query("c", request, 10, 1)
                times = []
                for request in requests:
                    started = time.perf_counter()
                    store.query("c", request, 10, 1)
                    times.append(time.perf_counter() - started)
                timings[mode] = summary_ms(times)
            results[str(size)] = {
                **timings,
                "hybrid_p50_over_dense_ms": round(
                    max(timings["hybrid_rrf"]["p50_ms"], timings["hybrid_dbsf"]["p50_ms"])
                    - timings["dense"]["p50_ms"],
                    2,
                ),
            }
    save("hybrid_latency", {"k": 10, "queries": len(questions), "points": results})


if __name__ == "__main__":
    main()
