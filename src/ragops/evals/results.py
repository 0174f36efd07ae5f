"""Per-question eval results on disk (Parquet) and comparisons between two versions.

Every eval writes ``<data_dir>/evals/<index>/v<version>/<dataset>-<time>.parquet`` with one row
per question (its id, text, retrieved chunk ids, error, and one column per metric) next to
the catalog row that holds the means. ``ragops eval compare INDEX A B`` reads them back.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from ragops.errors import EvalError

if TYPE_CHECKING:  # pragma: no cover
    from ragops.evals.runner import EvalReport
    from ragops.project import Project

__all__ = ["Comparison", "compare_versions", "read_results", "write_results"]


def write_results(
    folder: Path, dataset: str, report: EvalReport, extra: dict[str, list[Any]] | None = None
) -> Path:
    """Write one row per question of ``report`` (plus ``extra`` columns) and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    names = sorted({name for sample in report.samples for name in sample.metrics})
    columns: dict[str, list[Any]] = {
        "sample_id": [s.sample_id for s in report.samples],
        "question": [s.question for s in report.samples],
        "retrieved": [list(s.retrieved) for s in report.samples],
        "error": [s.error for s in report.samples],
    }
    for name in names:
        columns[name] = [_number(s.metrics.get(name)) for s in report.samples]
    for name, values in (extra or {}).items():
        columns[name] = values
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = folder / f"{dataset}-{stamp}-{uuid.uuid4().hex[:6]}.parquet"
    table = pa.table(
        {k: pa.array(v, type=pa.float64()) if k in names else v for k, v in columns.items()}
    )
    pq.write_table(table, path)
    return path


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def read_results(path: str | Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


@dataclass
class Comparison:
    """Metric deltas between two versions on one eval set, and the questions that moved most."""

    index: str
    dataset: str
    version_a: int
    version_b: int
    metrics: dict[str, dict[str, float | None]]
    focus: str
    moved: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "dataset": self.dataset,
            "a": self.version_a,
            "b": self.version_b,
            "metrics": self.metrics,
            "focus_metric": self.focus,
            "moved": self.moved,
        }


def compare_versions(
    project: Project,
    index: str,
    version_a: int,
    version_b: int,
    *,
    dataset: str | None = None,
    metric: str | None = None,
    top: int = 10,
) -> Comparison:
    """Compare the newest eval of ``version_a`` and ``version_b`` on one eval set."""
    latest = {}
    for version in (version_a, version_b):
        rows = [
            r.to_dict()
            for r in project.catalog.evals.of_version(index, version)
            if dataset is None or r.dataset == dataset
        ]
        if not rows:
            raise EvalError(
                f"{index} version {version} has no eval results"
                + (f" on {dataset!r}" if dataset else "")
                + f"; run `ragops eval {index} --version {version}` first"
            )
        latest[version] = rows[-1]
    a, b = latest[version_a], latest[version_b]
    if a["dataset"] != b["dataset"]:
        raise EvalError(
            f"the newest evals of versions {version_a} and {version_b} used different eval sets "
            f"({a['dataset']!r}, {b['dataset']!r}); pass --dataset NAME"
        )
    names = sorted(set(a["metrics"]) | set(b["metrics"]))
    metrics = {
        name: {
            "a": a["metrics"].get(name),
            "b": b["metrics"].get(name),
            "delta": (b["metrics"][name] - a["metrics"][name])
            if name in a["metrics"] and name in b["metrics"]
            else None,
        }
        for name in names
    }
    focus = metric or next((m for m in ("ndcg@10", "mrr", "recall@5") if m in names), names[0])
    moved: list[dict[str, Any]] = []
    if a.get("results_path") and b.get("results_path"):
        before = {row["sample_id"]: row for row in read_results(a["results_path"])}
        for row in read_results(b["results_path"]):
            old = before.get(row["sample_id"])
            if old is None or row.get(focus) is None or old.get(focus) is None:
                continue
            delta = row[focus] - old[focus]
            if delta:
                moved.append(
                    {
                        "sample_id": row["sample_id"],
                        "question": row["question"],
                        "a": old[focus],
                        "b": row[focus],
                        "delta": delta,
                    }
                )
        moved.sort(key=lambda item: (-abs(item["delta"]), item["sample_id"]))
    return Comparison(index, a["dataset"], version_a, version_b, metrics, focus, moved[:top])
