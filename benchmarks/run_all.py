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
    "lifecycle": ["-m", "benchmarks.bench_lifecycle"],
    "squad": ["-m", "benchmarks.bench_squad", "--all"],
    "embed_backends": ["-m", "benchmarks.bench_embed_backends"],
    "hybrid_latency": ["-m", "benchmarks.bench_hybrid_latency"],
    "serve": ["-m", "benchmarks.bench_serve"],
    "connectors": ["-m", "benchmarks.bench_connectors"],
}


def _sync_row(label: str, change: dict) -> tuple[str, str]:
    return (
        f"{label} (target ≤ 5 % of full build)",
        f"{change['seconds']} s = {100 * change['ratio_to_full_build']:.1f} % "
        f"(CPU {100 * change['cpu_ratio_to_full_build']:.1f} %); "
        f"{change['embedded']} embedded, {change['reused']} reused, "
        f"{change['points_written']} written, {change['points_closed']} closed",
    )


def _lifecycle_rows(result: dict) -> list[tuple[str, str]]:
    full, noop, storage = result["full_build"], result["noop"], result["storage_1pct_modify"]
    cli_modify = result["cli_modify_1pct"]
    rows = [
        (
            "documents / chunks (1 % = files)",
            f"{result['documents']} / {full['chunks']} ({result['files_per_1pct_change']})",
        ),
        (
            "full build (model loaded): wall, CPU",
            f"{full['seconds']} s, {full['cpu_seconds']} s "
            f"(load avg {result['load_average_1m_before_after']})",
        ),
        ("no-op re-sync in-process", f"{noop['in_process_seconds']} s"),
        (
            "no-op `ragops sync` process / bare `import ragops.cli`",
            f"{noop['cli_wall_seconds']} s / {noop['import_ragops_cli_seconds']} s",
        ),
        (
            "no-op CLI beyond process start (target ≤ 2 s)",
            f"{noop['cli_beyond_process_start_seconds']} s",
        ),
        _sync_row("modify 1 %", result["modify_1pct"]),
        _sync_row("delete 1 %", result["delete_1pct"]),
        _sync_row("add 1 %", result["add_1pct"]),
        _sync_row("modify 1 % again, warm model", result["modify_1pct_warm_model"]),
        (
            "modify 1 % by a fresh `ragops sync` (model load incl.)",
            f"{cli_modify['wall_seconds']} s = "
            f"{100 * cli_modify['ratio_to_full_build']:.1f} % of full build",
        ),
        (
            "storage per 1 % version: points (target ≤ 3 %)",
            f"+{storage['points_growth_pct']} % "
            f"({storage['points_all_versions_before']} → {storage['points_all_versions_after']})",
        ),
        (
            "storage per 1 % version: disk allocated (segments)",
            f"+{storage['collection_allocated_growth_pct']} % "
            f"(+{storage['segments_allocated_growth_pct']} %), "
            f"apparent +{storage['collection_apparent_growth_pct']} %",
        ),
    ]
    for run in result["promotion"]:
        n = f"{run['points']:,} points"
        rows.append(
            (
                f"promote / rollback p50, p99 @ {n} (≤ 100 ms)",
                f"{run['promote']['p50_ms']}, {run['promote']['p99_ms']} / "
                f"{run['rollback']['p50_ms']}, {run['rollback']['p99_ms']} ms",
            )
        )
        rows.append(
            (
                f"open + promote + close p50 @ {n}",
                f"{run['cold_open_promote_close']['p50_ms']} ms",
            )
        )
    return rows


def _squad_rows(result: dict) -> list[tuple[str, str]]:
    """One row per index variant, mode and grouping: nDCG@10, recall@5/@10, MRR on all
    questions (else the sample), and search p50 / p99."""
    rows = [("paragraphs", f"{result['paragraphs']}")]
    for variant in ("plain", "context"):
        built = result.get(variant)
        if not built:
            continue
        rows.append(
            (
                f"{variant}: chunks, index wall (BM25 share of embedding)",
                f"{built['chunks']}, {built['index_seconds']} s "
                f"({100 * built['sparse_share_of_embedding']:.2f} %)",
            )
        )
        for name, latency in built["search_latency_k10"].items():
            run = built.get(f"all_{name}") or built.get(f"sample_{name}")
            if not run:
                continue
            rows.append(
                (
                    f"{variant} {name} ({run['questions']:,} q): nDCG@10 · R@5 · R@10 · MRR",
                    f"{run['ndcg@10']} · {run['recall@5']} · {run['recall@10']} · {run['mrr']}"
                    f"; search p50 / p99 {latency['p50_ms']} / {latency['p99_ms']} ms",
                )
            )
    return rows


def _backend_rows(result: dict) -> list[tuple[str, str]]:
    rows = []
    for name, row in result["backends"].items():
        if "skipped" in row:
            rows.append((name, f"skipped: {row['skipped'][:80]}"))
            continue
        squad, cosine = row["squad"], row["cosine_to_torch_fp32"]
        rows.append(
            (
                f"{name}: chunks/s at {result['chunk_tokens']} tokens (× bf16 batch 64)",
                f"{row['chunks_per_second']} ({row['speedup_vs_bf16_batch64']}×); query p50 "
                f"{row['query']['p50_ms']} ms; SQuAD nDCG@10 {squad['ndcg@10']} "
                f"({row['ndcg10_delta_vs_torch_fp32']:+}); cosine to fp32 ≥ {cosine['min']}",
            )
        )
    return rows


def _hybrid_rows(result: dict) -> list[tuple[str, str]]:
    rows = []
    for size, modes in result["points"].items():
        shown = " · ".join(
            f"{mode} {modes[mode]['p50_ms']}/{modes[mode]['p99_ms']}"
            for mode in ("dense", "sparse", "hybrid_rrf", "hybrid_dbsf")
        )
        rows.append(
            (
                f"{int(size):,} points: search p50/p99 ms (hybrid − dense p50; target ≤ 3 ms)",
                f"{shown} ({modes['hybrid_p50_over_dense_ms']:+} ms)",
            )
        )
    return rows


def _serve_rows(result: dict) -> list[tuple[str, str]]:
    embedding = result["query_embedding"]
    rows = [
        ("files / chunks", f"{result['files']} / {result['chunks']}"),
        ("query embedding alone p50 / p99", f"{embedding['p50_ms']} / {embedding['p99_ms']} ms"),
    ]
    for level in result["levels"]:
        rows.append(
            (
                f"REST search @ {level['clients']} client(s): p50 / p99, queries/s",
                f"{level['p50_ms']} / {level['p99_ms']} ms, {level['queries_per_second']}/s"
                + (f", {level['errors']} errors" if level["errors"] else ""),
            )
        )
    during, sync = result["during_sync"], result["sync_1pct_through_server"]
    idle = result["sync_1pct_through_idle_server"]
    rows += [
        (
            "search @ 8 clients during a sync: p50 / p99 (target p99 ≤ 3× idle)",
            f"{during['p50_ms']} / {during['p99_ms']} ms = {during['p99_ratio_to_idle']}× idle",
        ),
        (
            "1 % change synced through the idle server",
            f"{idle['seconds']} s = {100 * idle['ratio_to_full_build']:.1f} % of full build "
            f"({idle['embedded']} embedded)",
        ),
        (
            "1 % change synced through the server under 8 clients (target ≤ 5 %)",
            f"{sync['seconds']} s = {100 * sync['ratio_to_full_build']:.1f} % of "
            f"{result['full_build_seconds']} s ({sync['embedded']} embedded)",
        ),
    ]
    return rows


def _connector_rows(result: dict) -> list[tuple[str, str]]:
    rows = []
    for name, unit in (("web", "pages"), ("sql", "rows"), ("s3", "objects")):
        if name not in result:
            continue
        r = result[name]
        rows += [
            (
                f"{name}: first listing ({r['documents']} {unit})",
                f"{r['first_listing_seconds']} s = {r['first_listing_per_second']} {unit}/s",
            ),
            (f"{name}: first sync (model loaded)", f"{r['first_sync_seconds']} s"),
            (
                f"{name}: resync listing (from cursor / validators)",
                f"{r['resync_listing_seconds']} s: {r['resync_listing_in_full']} in full, "
                f"{r['resync_listing_unchanged']} unchanged",
            ),
            (
                f"{name}: no-op resync in process / fresh `ragops sync`",
                f"{r['noop_resync_in_process_seconds']} s / {r['cli_noop_sync_seconds']} s",
            ),
            (
                f"{name}: no-op beyond process start (target ≤ 2 s)",
                f"{r['beyond_process_start_seconds']} s",
            ),
        ]
        if "noop_resync_requests" in r:
            rows.append((f"{name}: no-op resync requests", json.dumps(r["noop_resync_requests"])))
    return rows


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
    if name == "squad":
        return _squad_rows(result)
    if name == "embed_backends":
        return _backend_rows(result)
    if name == "hybrid_latency":
        return _hybrid_rows(result)
    if name == "lifecycle":
        return _lifecycle_rows(result)
    if name == "serve":
        return _serve_rows(result)
    if name == "connectors":
        return _connector_rows(result)
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
