"""Shared pieces of the benchmarks: paths, a throwaway project, JSON results, percentiles."""

from __future__ import annotations

import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
HF_DOCS = SHARED_DATA / "hf-hub-docs" / "docs"
RESULTS = REPO / "benchmarks" / "results"


def require(path: Path) -> None:
    if not path.exists():
        sys.exit(f"benchmark data missing: {path} (the benchmarks read ../shared/data)")


def write_project(
    root: Path,
    source_root: Path,
    *,
    include: str = "**/*.md",
    chunker: str = "sentence",
    store_url: str | None = None,
) -> Path:
    """A ragops.yaml in ``root`` indexing ``source_root`` into index ``bench``."""
    root.mkdir(parents=True, exist_ok=True)
    store = f"store:\n  url: '{store_url}'\n" if store_url else ""
    path = root / "ragops.yaml"
    path.write_text(
        "project: bench\n"
        f"{store}"
        "sources:\n"
        f"  corpus: {{connector: filesystem, root: '{source_root}', include: ['{include}']}}\n"
        "indexes:\n"
        f"  bench: {{sources: [corpus], chunker: {{kind: {chunker}}}}}\n",
        encoding="utf-8",
    )
    return path


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {
        "p50_ms": round(percentile(ms, 50), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "n": len(ms),
    }


def machine() -> dict[str, Any]:
    import os

    import torch

    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
    }


def save(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": name,
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        **result,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    return path
