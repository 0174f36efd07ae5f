"""Parse every file of a folder with ragops.documents and report what happened to each.

Every file must end either parsed ("ok") or quarantined with a reason; the run must finish.
Each file gets a wall-time budget: parsing runs in one worker process, and a file that runs
past ``--timeout`` has its worker killed (outcome "timeout") and a fresh worker takes the next.

Usage::

    python benchmarks/parse_corpus.py               # ../shared/data/unstructured-example-docs
    python benchmarks/parse_corpus.py ../shared/data/hf-hub-docs/docs --limit 60 --sample
    python benchmarks/parse_corpus.py DIR --text-classification nlp --json out.json

Prints one tab-separated line per file (path, outcome, seconds, chars, reason), then a JSON
summary: counts by outcome, the quarantine reasons, total and per-file times. Every file is
included, README/LICENSE/FILES.tsv too: a user pointing a filesystem connector at the folder
would get them. Worker start-up (imports, spaCy model, first PDF) is timed separately.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared/data/unstructured-example-docs"


def _tiny_pdf() -> bytes:
    """A one-page PDF with one line of text, to warm up the PDF stack."""
    stream = b"BT /F1 12 Tf 72 720 Td (Warm up the PDF parser.) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _worker(conn: Connection, settings: dict[str, Any]) -> None:
    """Parse the files sent over ``conn``; answer one result dict per file."""
    import logging
    import warnings

    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    from ragops.documents import configure_offline, parse_document
    from ragops.errors import ParseError

    started = time.perf_counter()
    configure_offline()
    parse_document(b"# Warm up\n\nThe markdown parser warms up.\n", "warm.md", **settings)
    parse_document(b"Warm up\n\nThe text parser warms up here.\n", "warm.txt", **settings)
    parse_document(_tiny_pdf(), "warm.pdf", **settings)
    conn.send({"warmup_s": round(time.perf_counter() - started, 2)})

    while (path := conn.recv()) is not None:
        content = Path(path).read_bytes()
        started = time.perf_counter()
        try:
            doc = parse_document(content, path, **settings)
            result = {"outcome": "ok", "chars": len(doc.text), "parser": doc.parser}
        except ParseError as exc:
            result = {"outcome": "quarantined", "reason": str(exc).split(": ", 1)[-1]}
        except Exception as exc:  # noqa: BLE001 - a bug in parse: report, keep going
            result = {"outcome": "crashed", "reason": f"{type(exc).__name__}: {exc}"}
        result["seconds"] = round(time.perf_counter() - started, 3)
        result["bytes"] = len(content)
        conn.send(result)


class Worker:
    """One parsing process; killed and replaced when a file runs past its budget."""

    def __init__(self, settings: dict[str, Any]) -> None:
        context = mp.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_worker, args=(child, settings), daemon=True)
        self._process.start()
        self.warmup_s: float = self._conn.recv()["warmup_s"]

    def parse(self, path: Path, timeout: float) -> dict[str, Any] | None:
        """The worker's result, or None when it ran out of time (the worker is then dead)."""
        self._conn.send(str(path))
        if self._conn.poll(timeout):
            try:
                result: dict[str, Any] = self._conn.recv()
                return result
            except EOFError:
                return {"outcome": "crashed", "reason": "worker process died", "seconds": None}
        self.kill()
        return None

    def alive(self) -> bool:
        return self._process.is_alive()

    def kill(self) -> None:
        self._process.kill()
        self._process.join()

    def close(self) -> None:
        if self._process.is_alive():
            self._conn.send(None)
            self._process.join(timeout=10)


def select_files(root: Path, limit: int | None, sample: bool) -> list[Path]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    if sample:
        random.Random(0).shuffle(files)
    return files[:limit] if limit else files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per file")
    parser.add_argument("--limit", type=int, help="parse only this many files")
    parser.add_argument("--sample", action="store_true", help="a seeded random sample")
    parser.add_argument("--pdf-strategy", default="fast")
    parser.add_argument("--text-classification", default="fast", choices=("fast", "nlp"))
    parser.add_argument("--json", type=Path, help="also write the per-file results here")
    args = parser.parse_args(argv)

    if not args.root.is_dir():
        print(f"no such folder: {args.root}", file=sys.stderr)
        return 2
    settings = {
        "pdf_strategy": args.pdf_strategy,
        "text_classification": args.text_classification,
    }
    files = select_files(args.root, args.limit, args.sample)
    worker = Worker(settings)
    warmups = [worker.warmup_s]
    print(f"# {len(files)} files under {args.root}; settings {settings}", flush=True)
    print(f"# worker warm-up {worker.warmup_s:.1f}s", flush=True)
    print("path\toutcome\tseconds\tchars\treason", flush=True)

    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    for path in files:
        result = worker.parse(path, args.timeout)
        if result is None:
            result = {"outcome": "timeout", "reason": f"over {args.timeout:.0f}s", "seconds": None}
        if not worker.alive():
            worker = Worker(settings)
            warmups.append(worker.warmup_s)
        result["path"] = str(path.relative_to(args.root))
        results.append(result)
        print(
            f"{result['path']}\t{result['outcome']}\t{result.get('seconds')}\t"
            f"{result.get('chars', '')}\t{result.get('reason', '')}",
            flush=True,
        )
    worker.close()

    summary = summarize(results, time.perf_counter() - started, warmups)
    print(json.dumps(summary, indent=2, ensure_ascii=False), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "files": results}, indent=2))
    return 0 if summary["counts"].get("crashed", 0) == 0 else 1


def summarize(results: list[dict[str, Any]], wall_s: float, warmups: list[float]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for result in results:
        counts[result["outcome"]] = counts.get(result["outcome"], 0) + 1
    ok_times = [r["seconds"] for r in results if r["outcome"] == "ok"]
    timed = [r for r in results if r.get("seconds") is not None]
    slowest = sorted(timed, key=lambda r: r["seconds"], reverse=True)[:5]
    return {
        "files": len(results),
        "counts": counts,
        "not_indexed": {
            r["path"]: f"{r['outcome']}: {r.get('reason', '')}"
            for r in results
            if r["outcome"] != "ok"
        },
        "wall_s": round(wall_s, 1),
        "worker_warmup_s": warmups,
        "ok_seconds": {
            "total": round(sum(ok_times), 2),
            "mean": round(statistics.fmean(ok_times), 3) if ok_times else None,
            "median": round(statistics.median(ok_times), 3) if ok_times else None,
        },
        "ok_chars_total": sum(r.get("chars", 0) for r in results if r["outcome"] == "ok"),
        "ok_bytes_total": sum(r.get("bytes", 0) for r in results if r["outcome"] == "ok"),
        "slowest": {r["path"]: r["seconds"] for r in slowest},
    }


if __name__ == "__main__":
    sys.exit(main())
