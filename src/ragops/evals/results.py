"""Per-question eval results on disk (Parquet), and reading them back by version.

Every eval writes ``<data_dir>/evals/<index>/v<version>/<dataset>-<time>.parquet`` with one row
per question (its id, text, retrieved chunk ids and their documents, its references, the ranks
at which they were found, its error, and one column per metric) next to the catalog row that
holds the means. ``ragops eval show`` reads them (:func:`eval_details`); ``ragops eval
compare`` too (:mod:`ragops.evals.compare`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from ragops.errors import EvalError, IndexNotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from ragops.catalog import EvalRecord
    from ragops.evals.runner import EvalReport
    from ragops.project import Project

__all__ = [
    "EvalDetails",
    "check_eval_set",
    "eval_details",
    "eval_set_names",
    "newest_evals",
    "read_results",
    "version_of",
    "write_results",
]


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
        "retrieved_docs": [list(s.retrieved_docs) for s in report.samples],
        "references": [list(s.references) for s in report.samples],
        "hit_ranks": [list(s.hit_ranks) for s in report.samples],
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
    """The rows :func:`write_results` wrote (an older file lacks the newer columns)."""
    return pq.read_table(path).to_pylist()


@dataclass
class EvalDetails:
    """One stored eval of one version on one eval set, question by question."""

    record: EvalRecord
    rows: list[dict[str, Any]] = field(default_factory=list)
    #: How many questions the eval had (``rows`` may be only the failed ones).
    questions: int = 0

    def to_dict(self) -> dict[str, Any]:
        record = self.record
        return {
            "index": record.index,
            "version": record.version,
            "dataset": record.dataset,
            "dataset_sha256": record.dataset_sha256,
            "k": record.k,
            "eval_id": record.id,
            "measured_at": record.created_at.isoformat(timespec="seconds"),
            "prompt_sha256": record.prompt_sha256,
            "judge": record.judge,
            "metrics": record.metrics,
            "questions": self.questions,
            "rows": self.rows,
        }


def eval_set_names(project: Project, index: str) -> list[str]:
    return [e.name for e in project.config.index(index).evals]


def check_eval_set(project: Project, index: str, dataset: str) -> None:
    """EvalError for an eval set the index does not declare, naming the ones it does."""
    from ragops.config.models import did_you_mean

    names = eval_set_names(project, index)
    if dataset not in names:
        raise EvalError(
            f"unknown eval set {dataset!r}{did_you_mean(dataset, names)} for index {index!r}; "
            f"its eval sets (indexes.{index}.evals): {', '.join(names) or 'none'}"
        )


def version_of(project: Project, index: str, version: int) -> int:
    """``version``, checked: IndexNotFoundError naming the versions there are."""
    versions = [v.number for v in project.catalog.versions.of_index(index)]
    if version not in versions:
        known = f"{versions[0]}–{versions[-1]}" if versions else "none yet"
        raise IndexNotFoundError(
            f"index {index!r} has no version {version} (versions: {known}); "
            f"`ragops versions {index}` lists them"
        )
    return version


def newest_evals(project: Project, index: str, version: int) -> dict[str, EvalRecord]:
    """The newest stored eval of ``version`` on each eval set, by set name."""
    newest: dict[str, EvalRecord] = {}
    for record in project.catalog.evals.of_version(index, version):
        newest[record.dataset] = record  # oldest first: the last one wins
    return newest


def eval_details(
    project: Project,
    index: str,
    *,
    version: int | None = None,
    dataset: str | None = None,
    failed: bool = False,
) -> list[EvalDetails]:
    """The newest eval of ``version`` (default: the newest version that has evals) on every
    eval set (or ``dataset``), question by question. ``failed``: only the questions that
    errored or found none of their references within the eval set's ``k``."""
    project.config.index(index)
    if dataset is not None:
        check_eval_set(project, index, dataset)
    if version is None:
        evaluated = sorted({r.version for r in project.catalog.evals.of_version(index)})
        if not evaluated:
            raise EvalError(f"index {index!r} has no evals yet; run `ragops eval {index}`")
        version = evaluated[-1]
    else:
        version_of(project, index, version)
    records = newest_evals(project, index, version)
    if dataset is not None:
        records = {dataset: records[dataset]} if dataset in records else {}
    if not records:
        where = f" on {dataset!r}" if dataset else ""
        raise EvalError(
            f"{index} version {version} has no evals{where}; run `ragops eval {index} "
            f"--version {version}`" + (f" --dataset {dataset}" if dataset else "")
        )
    details = []
    for record in records.values():
        rows = read_results(record.results_path) if record.results_path else []
        shown = [r for r in rows if not failed or _failed(r, record.k)]
        details.append(EvalDetails(record, shown, len(rows)))
    return details


def _failed(row: dict[str, Any], k: int) -> bool:
    """An error, or no reference found within ``k`` (when the question has references)."""
    if row.get("error"):
        return True
    ranks = row.get("hit_ranks")
    if ranks is not None and row.get("references"):
        return not any(rank <= k for rank in ranks)
    hit = row.get(f"hit_rate@{k}")
    return hit is not None and hit == 0
