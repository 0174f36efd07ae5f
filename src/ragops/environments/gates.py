"""Eval gates: whether a (version, prompt version) may go to production, with its evidence.

A gate holds on *every* eval set it applies to (the one it names, else all of the index's),
and each check reads exactly one stored eval: of this version, of the eval set's *current*
content (sha256 of the file, so an edited eval set is new evidence), of the prompt version
being promoted, and, for judged metrics, of the configured judge. A relative gate
(``>= production - d``) compares with production's own eval of the same eval set content;
when production has none it is refused, or, while there is no production yet, waived only
when ``allow_first_promotion`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragops.catalog import INDEX, PROMPT, EvalRecord
from ragops.config import Gate
from ragops.evals.sets import eval_group_by, eval_set_sha256, load_eval_set
from ragops.ranking import resolve_mode, retrieval_label

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

__all__ = ["PRODUCTION", "GateResult", "check_gates", "gates_pass"]

PRODUCTION = "production"


@dataclass(frozen=True)
class GateResult:
    """One gate on one eval set: the value found, the bound, the verdict and its evidence."""

    gate: str
    metric: str
    eval_set: str
    value: float | None
    bound: float | None
    passed: bool
    detail: str
    #: The eval rows read (ids and what they were measured on); None when there was none.
    evidence: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "metric": self.metric,
            "eval_set": self.eval_set,
            "value": self.value,
            "bound": self.bound,
            "passed": self.passed,
            "detail": self.detail,
            "evidence": self.evidence,
            "baseline": self.baseline,
        }


def gates_pass(results: list[GateResult]) -> bool:
    return all(result.passed for result in results)


def check_gates(
    project: Project, index: str, version: int, prompt_sha256: str | None
) -> list[GateResult]:
    """Check every gate of ``index`` on every eval set it applies to, for promoting
    (``version``, ``prompt_sha256``) to production."""
    config = project.config.index(index)
    gates = config.parsed_gates()
    if not gates:
        return []
    catalog = project.catalog
    judge = project.config.judge.model if project.config.judge else None
    production = catalog.pointers.get(INDEX, index, PRODUCTION)
    production_prompt = None
    if config.prompt is not None:
        alias = catalog.pointers.get(PROMPT, config.prompt, PRODUCTION)
        production_prompt = alias.target if alias is not None else None
    # each eval set's content hash and grouping, each version's mode: read once, not per gate
    facts: dict[str, tuple[str, str | None]] = {}
    modes: dict[tuple[int, str | None], str] = {}

    def label(of_version: int, gate: Gate, group_by: str | None) -> str:
        key = (of_version, gate.mode)
        if key not in modes:
            modes[key] = _mode(project, index, of_version, gate)
        return retrieval_label(modes[key], config.retrieval.fusion, group_by)

    results = []
    for gate in gates:
        for eval_set in config.eval_sets_of(gate):
            if eval_set.name not in facts:
                path = project.config.eval_path(eval_set)
                facts[eval_set.name] = (
                    eval_set_sha256(path),
                    eval_group_by(eval_set, load_eval_set(path)),
                )
            content, group_by = facts[eval_set.name]
            row = catalog.evals.matching(
                index, version, eval_set.name, content, prompt_sha256, judge,
                same_judge=gate.judged, retrieval=label(version, gate, group_by),
            )  # fmt: skip
            baseline = None
            if production is not None and gate.relative:
                baseline = catalog.evals.matching(
                    index, production.version, eval_set.name, content, production_prompt, judge,
                    same_judge=gate.judged, retrieval=label(production.version, gate, group_by),
                )  # fmt: skip
            results.append(
                _check(
                    gate,
                    eval_set.name,
                    version,
                    content,
                    row,
                    production.version if production is not None else None,
                    baseline,
                    config.allow_first_promotion,
                    index,
                )
            )
    return results


def _mode(project: Project, index: str, version: int, gate: Gate) -> str:
    """The mode whose evidence ``gate`` reads for ``version``: the one it names, else the one
    searches of that version run in (the index's mode; dense for a generation without BM25
    vectors)."""
    catalog = project.catalog
    generation = catalog.generations.get(catalog.versions.get(index, version).generation_id)
    settings = project.config.index(index).retrieval
    return resolve_mode(gate.mode, settings, generation, f"{index} version {version}")


def _check(
    gate: Gate,
    eval_set: str,
    version: int,
    content: str,
    row: EvalRecord | None,
    production_version: int | None,
    baseline: EvalRecord | None,
    allow_first: bool,
    index: str,
) -> GateResult:
    text = str(gate)

    def result(value: float | None, bound: float | None, passed: bool, detail: str) -> GateResult:
        return GateResult(
            text, gate.metric, eval_set, value, bound, passed, detail,
            _evidence(row), _evidence(baseline),
        )  # fmt: skip

    if row is None:
        return result(
            None,
            None,
            False,
            f"no eval of version {version} on eval set {eval_set!r} as it is now (content "
            f"{content[:12]}) with this prompt version; run `ragops eval {index} --version "
            f"{version} --dataset {eval_set}`",
        )
    value = row.metrics.get(gate.metric)
    if not isinstance(value, int | float):
        reason = row.report.get("skipped", {}).get(gate.metric, "not measured")
        return result(None, None, False, f"{gate.metric} on {eval_set!r} has no value ({reason})")
    value = float(value)
    if gate.threshold is not None:
        bound = gate.threshold
    elif production_version is None:
        if allow_first:
            return result(
                value,
                None,
                True,
                f"{gate.metric} = {value:.4f}; no production version yet to compare with "
                "(waived: allow_first_promotion)",
            )
        return result(
            value,
            None,
            False,
            f"no production version yet to compare {gate.metric} with; set "
            f"indexes.{index}.allow_first_promotion: true to let the first promotion pass, "
            "or promote with --force --reason",
        )
    elif baseline is None or not isinstance(baseline.metrics.get(gate.metric), int | float):
        return result(
            value,
            None,
            False,
            f"production (version {production_version}) has no {gate.metric} on eval set "
            f"{eval_set!r} as it is now; run `ragops eval {index} --version "
            f"{production_version} --dataset {eval_set}` to measure the baseline",
        )
    else:
        bound = float(baseline.metrics[gate.metric]) + (gate.production_delta or 0.0)
    passed = gate.passes(value, bound)
    verdict = "passes" if passed else "fails"
    return result(
        value, bound, passed, f"{gate.metric} = {value:.4f} {verdict} {gate.op} {bound:.4f}"
    )


def _evidence(row: EvalRecord | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "eval_id": row.id,
        "version": row.version,
        "eval_set": row.dataset,
        "eval_set_sha256": row.dataset_sha256,
        "prompt_sha256": row.prompt_sha256,
        "judge": row.judge,
        "at": row.created_at.isoformat(timespec="seconds"),
    }
