"""Comparing two versions of an index on its eval sets: metric deltas, the questions that
moved most, and a warning when an eval set's content differs between the two evals.

Each version's newest stored eval of each set is compared. Versions, eval sets and the metric
that ranks moved questions are checked first: an unknown one is an error naming the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragops.config.gates import metric_names
from ragops.config.models import did_you_mean
from ragops.errors import EvalError
from ragops.evals.results import (
    check_eval_set,
    eval_set_names,
    newest_evals,
    read_results,
    version_of,
)

if TYPE_CHECKING:  # pragma: no cover
    from ragops.catalog import EvalRecord
    from ragops.project import Project

__all__ = ["Comparison", "SetComparison", "compare_versions"]

#: The metric that ranks moved questions when none is named (the first one reported).
FOCUS_ORDER = ("ndcg@10", "mrr", "recall@5")


@dataclass
class SetComparison:
    """Two versions on one eval set: each metric's values and delta, the questions whose
    ``focus`` metric moved most, and warnings (an eval set edited between the two evals)."""

    dataset: str
    metrics: dict[str, dict[str, float | None]]
    focus: str
    moved: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    eval_ids: tuple[int, int] = (0, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "eval_ids": list(self.eval_ids),
            "metrics": self.metrics,
            "focus_metric": self.focus,
            "moved": self.moved,
            "warnings": self.warnings,
        }


@dataclass
class Comparison:
    """Versions ``a`` → ``b`` of an index on every eval set both were evaluated on (or the one
    named). ``missing`` names the sets only one of them has evals for, with the fix."""

    index: str
    version_a: int
    version_b: int
    sets: list[SetComparison]
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def warnings(self) -> list[str]:
        return [w for s in self.sets for w in s.warnings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "a": self.version_a,
            "b": self.version_b,
            "sets": [s.to_dict() for s in self.sets],
            "missing": self.missing,
            "warnings": self.warnings,
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
    """Compare the newest evals of ``version_a`` and ``version_b`` on every eval set (or
    ``dataset``); ``metric`` ranks the questions that moved (default: ndcg@10, mrr, recall@5,
    whichever is reported first)."""
    project.config.index(index)
    for version in (version_a, version_b):
        version_of(project, index, version)
    if dataset is not None:
        check_eval_set(project, index, dataset)
    names = [dataset] if dataset is not None else eval_set_names(project, index)
    evals = {v: newest_evals(project, index, v) for v in (version_a, version_b)}
    sets, missing = [], {}
    for name in names:
        lacking = [v for v in (version_a, version_b) if name not in evals[v]]
        if lacking:
            missing[name] = " and ".join(
                f"version {v} has no eval on it (`ragops eval {index} --version {v} "
                f"--dataset {name}`)"
                for v in lacking
            )
            continue
        sets.append(_compare(evals[version_a][name], evals[version_b][name], metric, top))
    if not sets:
        detail = "; ".join(f"{name}: {why}" for name, why in missing.items())
        raise EvalError(f"nothing to compare between versions {version_a} and {version_b}: "
                        f"{detail or 'the index has no eval sets'}")  # fmt: skip
    return Comparison(index, version_a, version_b, sets, missing)


def _compare(a: EvalRecord, b: EvalRecord, metric: str | None, top: int) -> SetComparison:
    names = _display_order(set(a.metrics) | set(b.metrics))
    if metric is not None and metric not in names:
        raise EvalError(
            f"unknown metric {metric!r}{did_you_mean(metric, names)}: the evals of "
            f"{a.dataset!r} report {', '.join(names)}"
        )
    metrics = {
        name: {
            "a": a.metrics.get(name),
            "b": b.metrics.get(name),
            "delta": (b.metrics[name] - a.metrics[name])
            if name in a.metrics and name in b.metrics
            else None,
        }
        for name in names
    }
    focus = metric or next((m for m in FOCUS_ORDER if m in names), names[0])
    warnings = []
    if a.dataset_sha256 != b.dataset_sha256:
        warnings.append(
            f"eval set {a.dataset!r} changed between the two evals (content "
            f"{(a.dataset_sha256 or '?')[:12]} on version {a.version}, "
            f"{(b.dataset_sha256 or '?')[:12]} on version {b.version}): the deltas mix edits "
            f"of the questions with changes of the index; evaluate both versions on the "
            f"current file (`ragops eval {a.index} --version {a.version}`) to compare them fairly"
        )
    return SetComparison(a.dataset, metrics, focus, _moved(a, b, focus, top), warnings,
                         (a.id, b.id))  # fmt: skip


def _display_order(names: set[str]) -> list[str]:
    """Metric names in the order evals report them (rank families by cutoff, then the rest)."""
    cutoffs = {
        int(n.rsplit("@", 1)[1]) for n in names if "@" in n and n.rsplit("@", 1)[1].isdigit()
    }
    order = {name: i for i, name in enumerate(metric_names(cutoffs))}
    return sorted(names, key=lambda n: (order.get(n, len(order)), n))


def _moved(a: EvalRecord, b: EvalRecord, focus: str, top: int) -> list[dict[str, Any]]:
    if not a.results_path or not b.results_path:
        return []
    before = {row["sample_id"]: row for row in read_results(a.results_path)}
    moved = []
    for row in read_results(b.results_path):
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
    return moved[:top]
