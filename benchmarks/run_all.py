"""``make bench``: run every benchmark in its own process, then print one table.

Each benchmark writes ``benchmarks/results/<name>.json``; this script reads them back and
prints the headline figures. Select some with ``python -m benchmarks.run_all ingest``.
"""

from __future__ import annotations

import json
import subprocess
import sys

from rich.console import Console
from rich.table import Table

from benchmarks.common import REPO, RESULTS

BENCHMARKS = {
    "ingest": ["-m", "benchmarks.bench_ingest"],
    "hnsw_recall": ["benchmarks/bench_hnsw_recall.py", "--n", "4000", "--queries", "200"],
}


def _rows(name: str, result: dict) -> list[tuple[str, str]]:
    if name == "ingest":
        search = result["search"]
        return [
            (
                "documents / chunks / quarantined",
                f"{result['documents']} / {result['chunks']} / {result['quarantined']}",
            ),
            ("sync wall (model loaded)", f"{result['sync_seconds']} s"),
            ("docs/s, chunks/s", f"{result['docs_per_second']}, {result['chunks_per_second']}"),
            ("pure embedding of the same chunks", f"{result['pure_embedding_seconds']} s"),
            (
                "ratio sync / pure embedding (target ≤ 1.3)",
                str(result["ratio_sync_to_pure_embedding"]),
            ),
            (
                "no-op re-sync",
                f"{result['noop_resync_seconds']} s, {result['noop_resync_embedded']} embedded",
            ),
            (
                "query embedding p50 / p99",
                f"{search['query_embedding']['p50_ms']} / {search['query_embedding']['p99_ms']} ms",
            ),
            (
                "vector search p50 / p99",
                f"{search['vector_search']['p50_ms']} / {search['vector_search']['p99_ms']} ms",
            ),
            ("peak RSS", f"{result['peak_rss_mib']} MiB"),
        ]
    return [
        (key, json.dumps(value)[:80])
        for key, value in result.items()
        if key not in ("benchmark", "machine", "at")
    ][:12]


def main() -> None:
    selected = sys.argv[1:] or list(BENCHMARKS)
    for name in selected:
        print(f"==> {name}", file=sys.stderr)
        subprocess.run(
            [sys.executable, *BENCHMARKS[name]], cwd=REPO, check=True, stdout=subprocess.DEVNULL
        )
    console = Console()
    for name in selected:
        path = RESULTS / f"{name}.json"
        if not path.is_file():
            continue
        result = json.loads(path.read_text())
        table = Table("metric", "value", title=f"{name} ({path.relative_to(REPO)})")
        for metric, value in _rows(name, result):
            table.add_row(metric, value)
        console.print(table)


if __name__ == "__main__":
    main()
