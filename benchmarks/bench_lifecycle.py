"""Index lifecycle costs: full build, no-op and 1 % incremental re-syncs, storage growth per
version, and promote / rollback latency at 2k and 100k points.

Part 1 works on a copy of ../shared/data/hf-hub-docs/docs (360 markdown files) in a temporary
folder, so files can be modified, deleted and added (the shared data is never touched):

* full build: wall seconds of ``ragops.sync(project, "bench")`` with the model loaded beforehand;
* no-op re-sync: in-process, and as a fresh ``ragops --config … sync bench --json`` process,
  compared with the bare start of a process that imports ``ragops.cli`` (target: no-op ≤ 2 s
  beyond process start);
* re-sync after modifying 1 % of the files (a paragraph appended), deleting 1 %, and adding 1 %
  (copies of other pages with edited text): seconds, ratio to the full build (target ≤ 5 %),
  chunks embedded vs reused from the embedding cache, points written and closed;
* storage growth of the 1 % modify: points in the collection (all versions) and the collection
  folder on disk (allocated blocks and apparent size, segments and WAL apart), before and after,
  as a percentage of the base (target ≤ 3 %);
* another 1 % modify after those, in the same process (the model's first inferences, which
  cost extra, are behind it);
* a 1 % modify synced by a fresh CLI process (what a cron job pays: process start and model
  load included).

Part 2 writes N synthetic points (random unit 384-d vectors, payload like a sync's) straight
through the store API into one generation, registers version 1 (all N) and version 2 (1 % closed,
1 % added) in the catalog, then times ``promote(…, force=True, reason="bench")`` and
``rollback(…)`` of ``production`` alternately (target ≤ 100 ms, flat between 2k and 100k).

    python -m benchmarks.bench_lifecycle [--sizes 2000,100000] [--repeats 20] [--limit N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import ragops
from benchmarks.common import HF_DOCS, SHARED_DATA, peak_rss_mib, require, save, summary_ms
from benchmarks.common import write_project as _write_project

INDEX = "bench"
DIMENSION = 384


# -- helpers ---------------------------------------------------------------------------------


def _ragops_executable() -> str:
    candidate = Path(sys.executable).parent / "ragops"
    found = str(candidate) if candidate.is_file() else shutil.which("ragops")
    if not found:
        sys.exit("the `ragops` console script is not installed next to this Python")
    return found


def _timed_run(command: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds, done


def _median_run(command: list[str], runs: int) -> tuple[float, list[float], str]:
    times, stdout = [], ""
    for _ in range(runs):
        seconds, done = _timed_run(command)
        times.append(seconds)
        stdout = done.stdout
    return statistics.median(times), [round(t, 3) for t in times], stdout


def _disk(folder: Path) -> dict[str, int]:
    """Allocated bytes (st_blocks) and apparent bytes (st_size) of a folder, WAL apart."""
    sizes = {"allocated": 0, "apparent": 0, "wal_allocated": 0, "wal_apparent": 0, "files": 0}
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        stat = path.stat()
        sizes["files"] += 1
        sizes["allocated"] += stat.st_blocks * 512
        sizes["apparent"] += stat.st_size
        if path.relative_to(folder).parts[0] == "wal":
            sizes["wal_allocated"] += stat.st_blocks * 512
            sizes["wal_apparent"] += stat.st_size
    return sizes


def _pct(after: float, before: float) -> float:
    return round(100 * (after - before) / before, 3) if before else float("nan")


def _sync_summary(
    result: Any, seconds: float, cpu: float, full_seconds: float, full_cpu: float
) -> dict[str, Any]:
    docs = result.documents
    return {
        "seconds": round(seconds, 3),
        "ratio_to_full_build": round(seconds / full_seconds, 4),
        "cpu_seconds": round(cpu, 3),
        "cpu_ratio_to_full_build": round(cpu / full_cpu, 4),
        "created_version": result.created_version,
        "version": result.version,
        "documents": {
            "new": docs.new,
            "changed": docs.changed,
            "deleted": docs.deleted,
            "renamed": docs.renamed,
        },
        "chunks_in_version": result.chunks,
        "embedded": result.embedded,
        "reused": result.reused,
        "points_written": result.points_written,
        "points_closed": result.points_closed,
        "stage_seconds": result.timings,
    }


def _open_loaded(config: Path) -> tuple[Any, float]:
    """Project.open, with the embedding model loaded (outside any timed sync)."""
    from ragops.project import Project

    started = time.perf_counter()
    project = Project.open(config)
    _ = project.embedder(INDEX).model
    return project, time.perf_counter() - started


# -- corpus edits ----------------------------------------------------------------------------


def _appended_paragraph(name: str, tag: str) -> str:
    return (
        f"\n\n## Revision note ({tag})\n\n"
        f"This paragraph was appended to {name} by the lifecycle benchmark to simulate an edit. "
        "It describes a small change to the page: a new caveat about rate limits, a pointer to "
        "the troubleshooting guide and a reminder that tokens must be kept secret. Incremental "
        "sync should embed only the chunks this paragraph changes.\n"
    )


def _edited_copy(text: str, tag: str) -> str:
    """Another page's text, edited throughout so that its chunks are not cached duplicates."""
    edited = text.replace(" the ", " the revised ").replace(" a ", " one ")
    return f"# Copy {tag}\n\nA revised copy made by the lifecycle benchmark.\n\n{edited}"


def _change(
    project: Any, full: tuple[float, float], collection: str
) -> tuple[dict[str, Any], Any, int]:
    """Sync the index and summarise it against the full build's (wall, CPU) seconds."""
    started, cpu_started = time.perf_counter(), time.process_time()
    [result] = ragops.sync(project, INDEX)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    summary = _sync_summary(result, seconds, cpu, *full)
    total_points = project.store.count(collection)
    summary["points_all_versions_after"] = total_points
    return summary, result, total_points


# -- part 1: build, no-op, incremental -------------------------------------------------------


def incremental(limit: int | None, cli_runs: int) -> dict[str, Any]:
    pages = sorted(HF_DOCS.rglob("*.md"))[:limit]
    with tempfile.TemporaryDirectory(prefix="ragops-bench-lifecycle-") as folder:
        root = Path(folder)
        docs = root / "docs"
        for page in pages:
            target = docs / page.relative_to(HF_DOCS)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(page, target)
        config = _write_project(root / "project", docs)
        one_percent = max(1, math.ceil(len(pages) / 100))
        rng = random.Random(20240601)
        copied = sorted(docs.rglob("*.md"))
        picked = rng.sample(copied, 5 * one_percent)
        to_modify, to_delete, to_copy, to_modify_again, to_modify_cli = (
            picked[k * one_percent : (k + 1) * one_percent] for k in range(5)
        )

        # 1. full build, model loaded beforehand
        project, model_load = _open_loaded(config)
        started, cpu_started = time.perf_counter(), time.process_time()
        [full] = ragops.sync(project, INDEX)
        full_seconds = time.perf_counter() - started
        full_cpu = time.process_time() - cpu_started
        base = (full_seconds, full_cpu)
        collection = full.collection
        collection_dir = project.config.store_path() / "collections" / collection
        data_dir = project.config.data_path

        # 2a. no-op re-syncs in-process
        noop_times, noop_embedded = [], []
        for _ in range(3):
            started = time.perf_counter()
            [noop] = ragops.sync(project, INDEX)
            noop_times.append(time.perf_counter() - started)
            noop_embedded.append(noop.embedded)
            assert not noop.created_version, "a no-op sync created a version"
        project.close()

        # 2b. a fresh process: bare start, then a no-op `ragops sync`
        cli = _ragops_executable()
        python_start, python_runs, _ = _median_run([sys.executable, "-c", "pass"], cli_runs)
        import_start, import_runs, _ = _median_run(
            [sys.executable, "-c", "import ragops.cli"], cli_runs
        )
        help_start, help_runs, _ = _median_run([cli, "--help"], cli_runs)
        cli_noop, cli_runs_s, stdout = _median_run(
            [cli, "--config", str(config), "sync", INDEX, "--json"], cli_runs
        )
        [cli_result] = json.loads(stdout)["indexes"]
        assert not cli_result["created_version"], "the CLI no-op sync created a version"

        # 4 (before). storage of the base version, store closed (flushed)
        disk_before = _disk(collection_dir)
        data_before = _disk(data_dir)["allocated"]

        # 3a. modify 1 %
        project, _ = _open_loaded(config)
        points_before = project.store.count(collection)
        for path in to_modify:
            with path.open("a", encoding="utf-8") as handle:
                handle.write(_appended_paragraph(path.name, "modify"))
        modify, modified, points_after_modify = _change(project, base, collection)
        project.close()
        disk_after = _disk(collection_dir)
        data_after = _disk(data_dir)["allocated"]

        # 3b. delete 1 %, 3c. add 1 %
        project, _ = _open_loaded(config)
        for path in to_delete:
            path.unlink()
        delete, _, _ = _change(project, base, collection)
        added_dir = docs / "bench-added"
        added_dir.mkdir()
        for n, path in enumerate(to_copy):
            text = path.read_text(encoding="utf-8", errors="replace")
            (added_dir / f"copy-{n}-{path.name}").write_text(
                _edited_copy(text, str(n)), encoding="utf-8"
            )
        add, _, _ = _change(project, base, collection)
        # 3d. modify another 1 % in the same process: the model has run since it was loaded
        for path in to_modify_again:
            with path.open("a", encoding="utf-8") as handle:
                handle.write(_appended_paragraph(path.name, "again"))
        modify_again, _, _ = _change(project, base, collection)
        project.close()

        # 3e. modify 1 % through a fresh CLI process (process start and model load included)
        for path in to_modify_cli:
            with path.open("a", encoding="utf-8") as handle:
                handle.write(_appended_paragraph(path.name, "cli"))
        cli_modify, done = _timed_run([cli, "--config", str(config), "sync", INDEX, "--json"])
        [cli_modify_result] = json.loads(done.stdout)["indexes"]

    base_points = full.points_written
    return {
        "corpus": str(HF_DOCS.relative_to(SHARED_DATA)) + " (a copy)",
        "documents": full.documents.seen,
        "files_per_1pct_change": one_percent,
        "model_load_seconds": round(model_load, 2),
        "full_build": {
            "seconds": round(full_seconds, 2),
            "cpu_seconds": round(full_cpu, 2),
            "chunks": full.chunks,
            "embedded": full.embedded,
            "stage_seconds": full.timings,
        },
        "noop": {
            "in_process_seconds": round(statistics.median(noop_times), 3),
            "in_process_runs": [round(t, 3) for t in noop_times],
            "in_process_embedded": noop_embedded,
            "cli_wall_seconds": round(cli_noop, 3),
            "cli_runs": cli_runs_s,
            "cli_reported_seconds": cli_result["seconds"],
            "python_start_seconds": round(python_start, 3),
            "python_start_runs": python_runs,
            "import_ragops_cli_seconds": round(import_start, 3),
            "import_ragops_cli_runs": import_runs,
            "ragops_help_seconds": round(help_start, 3),
            "ragops_help_runs": help_runs,
            "cli_beyond_process_start_seconds": round(cli_noop - import_start, 3),
        },
        "modify_1pct": modify,
        "delete_1pct": delete,
        "add_1pct": add,
        "modify_1pct_warm_model": modify_again,
        "cli_modify_1pct": {
            "wall_seconds": round(cli_modify, 2),
            "ratio_to_full_build": round(cli_modify / full_seconds, 4),
            "reported_sync_seconds": cli_modify_result["seconds"],
            "embedded": cli_modify_result["embedded"],
            "reused": cli_modify_result["reused"],
            "points_written": cli_modify_result["points_written"],
            "points_closed": cli_modify_result["points_closed"],
        },
        "storage_1pct_modify": {
            "base_points": base_points,
            "points_all_versions_before": points_before,
            "points_all_versions_after": points_after_modify,
            "points_growth_pct": _pct(points_after_modify, points_before),
            "points_in_new_version": modified.chunks,
            "collection_allocated_bytes_before": disk_before["allocated"],
            "collection_allocated_bytes_after": disk_after["allocated"],
            "collection_allocated_growth_pct": _pct(
                disk_after["allocated"], disk_before["allocated"]
            ),
            "segments_allocated_growth_pct": _pct(
                disk_after["allocated"] - disk_after["wal_allocated"],
                disk_before["allocated"] - disk_before["wal_allocated"],
            ),
            "wal_allocated_bytes_before": disk_before["wal_allocated"],
            "wal_allocated_bytes_after": disk_after["wal_allocated"],
            "collection_apparent_bytes_before": disk_before["apparent"],
            "collection_apparent_bytes_after": disk_after["apparent"],
            "collection_apparent_growth_pct": _pct(disk_after["apparent"], disk_before["apparent"]),
            "collection_files_before": disk_before["files"],
            "collection_files_after": disk_after["files"],
            "data_dir_allocated_bytes_before": data_before,
            "data_dir_allocated_bytes_after": data_after,
        },
    }


# -- part 2: promote and rollback ------------------------------------------------------------


def _synthetic_points(rng: Any, count: int, v_from: int, first_doc: int) -> list[Any]:
    import numpy as np

    from ragops.store import OPEN, PointRecord

    vectors = rng.standard_normal((count, DIMENSION), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    points = []
    for i, vector in enumerate(vectors.tolist()):
        doc = first_doc + i // 6
        chunk = str(uuid.uuid4())
        points.append(
            PointRecord(
                id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{chunk}/{v_from}")),
                vector=vector,
                payload={
                    "chunk_id": chunk,
                    "doc_id": f"docs/page-{doc}.md",
                    "source": "corpus",
                    "text": f"Synthetic chunk {i} of page {doc}. " * 12,
                    "metadata": {"filename": f"page-{doc}.md"},
                    "acl": [],
                    "v_from": v_from,
                    "v_to": OPEN,
                },
            )
        )
    return points


def promotion(size: int, repeats: int) -> dict[str, Any]:
    import numpy as np

    from ragops.catalog import INDEX as POINTER
    from ragops.environments import promote, rollback
    from ragops.project import Project

    rng = np.random.default_rng(size)
    with tempfile.TemporaryDirectory(prefix="ragops-bench-promote-") as folder:
        root = Path(folder)
        (root / "docs").mkdir()
        config = _write_project(root / "project", root / "docs")
        project = Project.open(config)
        try:
            catalog, store = project.catalog, project.store
            fingerprint = hashlib.sha256(f"synthetic-{size}".encode()).hexdigest()
            generation = catalog.generations.get_or_create(
                INDEX,
                fingerprint,
                {"synthetic": size},
                DIMENSION,
                "cosine",
                collection=project.collection_name(INDEX, fingerprint),
            )
            store.create_collection(generation.collection, DIMENSION, "cosine")
            started = time.perf_counter()
            ids: list[str] = []
            for start in range(0, size, 4096):
                batch = _synthetic_points(rng, min(4096, size - start), 1, start // 6)
                store.upsert(generation.collection, batch)
                ids.extend(p.id for p in batch)
            catalog.versions.commit(INDEX, 1, generation.id, [], [], {"chunks": size})
            changed = max(1, size // 100)  # version 2: 1 % closed, 1 % added
            store.set_v_to(generation.collection, ids[:changed], 2)
            store.upsert(generation.collection, _synthetic_points(rng, changed, 2, size // 6 + 1))
            catalog.versions.commit(INDEX, 2, generation.id, [], [], {"chunks": size})
            write_seconds = time.perf_counter() - started
            counts = {
                "v1": store.count(generation.collection, 1),
                "v2": store.count(generation.collection, 2),
                "all": store.count(generation.collection),
            }

            started = time.perf_counter()
            promote(project, INDEX, 1, "production", force=True, reason="bench")
            first_promote = time.perf_counter() - started
            promote(project, INDEX, 2, "production", force=True, reason="bench")
            promote_times, rollback_times = [], []
            for _ in range(repeats):
                started = time.perf_counter()
                rollback(project, INDEX, "production", reason="bench")
                rollback_times.append(time.perf_counter() - started)
                assert catalog.pointers.get(POINTER, INDEX, "production").version == 1
                started = time.perf_counter()
                promote(project, INDEX, 2, "production", force=True, reason="bench")
                promote_times.append(time.perf_counter() - started)
                assert catalog.pointers.get(POINTER, INDEX, "production").version == 2
        finally:
            project.close()

        # A fresh Project (new catalog engine, store opened and locked) per promotion.
        cold_times = []
        for version in (1, 2, 1):
            started = time.perf_counter()
            with Project.open(config) as fresh:
                promote(fresh, INDEX, version, "production", force=True, reason="bench")
            cold_times.append(time.perf_counter() - started)

    return {
        "points": size,
        "points_per_version": counts,
        "write_seconds": round(write_seconds, 2),
        "first_promote_ms": round(first_promote * 1000, 2),
        "promote": summary_ms(promote_times),
        "rollback": summary_ms(rollback_times),
        "cold_open_promote_close": summary_ms(cold_times),
    }


# -- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2000,100000", help="points for promote/rollback")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--cli-runs", type=int, default=3, help="runs of each subprocess timing")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N files")
    args = parser.parse_args()
    require(HF_DOCS)

    load_before = os.getloadavg()
    started = time.perf_counter()
    sync_part = incremental(args.limit, args.cli_runs)
    promotions = [promotion(int(size), args.repeats) for size in args.sizes.split(",")]
    save(
        "lifecycle",
        {
            **sync_part,
            "promotion": promotions,
            "targets": {
                "noop_beyond_process_start_s": 2.0,
                "incremental_ratio_max": 0.05,
                "storage_growth_pct_max": 3.0,
                "promote_rollback_ms_max": 100.0,
            },
            "bench_seconds": round(time.perf_counter() - started, 1),
            # 2 cores shared with other work: wall ratios move with the load, CPU ratios less
            "load_average_1m_before_after": [
                round(load_before[0], 2),
                round(os.getloadavg()[0], 2),
            ],
            "peak_rss_mib": round(peak_rss_mib(), 1),
        },
    )


if __name__ == "__main__":
    main()
