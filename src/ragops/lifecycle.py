"""Promotion, rollback and eval gates: moving environment pointers with evidence.

An environment (``production``, ``staging``, any name) points at one index version. Moving it
is a single catalog transaction, so readers switch atomically and nothing is copied or
re-embedded. Promotion to ``production`` checks the index's gates from ``ragops.yaml``
against the version's stored eval results; ``force=True`` overrides and is recorded with the
reason.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragops.catalog import HistoryEntry, VersionInfo
from ragops.config import Gate
from ragops.errors import IndexNotFoundError, PromotionError

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

__all__ = ["GateResult", "check_gates", "environment_stack", "promote", "rollback"]

PRODUCTION = "production"


@dataclass(frozen=True)
class GateResult:
    """One gate checked against a version: the value found, the bound, and the verdict."""

    gate: str
    metric: str
    value: float | None
    bound: float | None
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "metric": self.metric,
            "value": self.value,
            "bound": self.bound,
            "passed": self.passed,
            "detail": self.detail,
        }


def _actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = str(os.getuid())
    return os.environ.get("RAGOPS_ACTOR", user)


def latest_metrics(project: Project, index: str, version: int) -> dict[str, float]:
    """The newest value of every metric measured on ``version`` (over all eval sets)."""
    merged: dict[str, float] = {}
    for row in project.catalog.eval_results(index, version):
        for name, value in row["metrics"].items():
            if isinstance(value, int | float):
                merged[name] = float(value)
    return merged


def check_gates(project: Project, index: str, version: int) -> list[GateResult]:
    """Check every gate of ``index`` against ``version``'s eval results."""
    gates = project.config.index(index).parsed_gates()
    if not gates:
        return []
    metrics = latest_metrics(project, index, version)
    production: dict[str, float] | None = None
    pointer = project.catalog.environments(index).get(PRODUCTION)
    if pointer is not None:
        production = latest_metrics(project, index, pointer.version)
    return [_check(gate, metrics, production, version) for gate in gates]


def _check(
    gate: Gate, metrics: dict[str, float], production: dict[str, float] | None, version: int
) -> GateResult:
    text = str(gate)
    value = metrics.get(gate.metric)
    if value is None:
        known = ", ".join(sorted(metrics)) or "none: run `ragops eval` on it first"
        return GateResult(
            text,
            gate.metric,
            None,
            None,
            False,
            f"version {version} has no {gate.metric!r} result (measured: {known})",
        )
    if gate.threshold is not None:
        bound = gate.threshold
    elif production is None or gate.metric not in production:
        return GateResult(
            text, gate.metric, value, None, True, "no production baseline yet: relative gate passes"
        )
    else:
        bound = production[gate.metric] + (gate.production_delta or 0.0)
    passed = {">=": value >= bound, "<=": value <= bound, ">": value > bound, "<": value < bound}[
        gate.op
    ]
    verdict = "passes" if passed else "fails"
    return GateResult(
        text,
        gate.metric,
        value,
        bound,
        passed,
        f"{gate.metric} = {value:.4f} {verdict} {gate.op} {bound:.4f}",
    )


def promote(
    project: Project,
    index: str,
    version: int,
    env: str = PRODUCTION,
    *,
    force: bool = False,
    reason: str | None = None,
) -> HistoryEntry:
    """Point ``env`` at ``version``. Gates apply to production; ``force`` needs a ``reason``."""
    info = project.catalog.version(index, version)
    results = check_gates(project, index, version) if env == PRODUCTION else []
    failing = [r for r in results if not r.passed]
    if failing and not force:
        lines = "\n".join(f"  - {r.gate}: {r.detail}" for r in failing)
        raise PromotionError(
            f"refusing to promote {index} version {version} to {env}: {len(failing)} gate(s) "
            f'fail:\n{lines}\nImprove the index, or override with --force --reason "why"'
        )
    if force and not reason:
        raise PromotionError('--force needs --reason "why": forced promotions are audited')
    entry = project.catalog.move_environment(
        index,
        env,
        info,
        action="promote",
        actor=_actor(),
        reason=reason,
        forced=bool(force and failing),
        evidence={"gates": [r.to_dict() for r in results]},
    )
    if env == PRODUCTION:
        _follow_alias(project, index, info)
    return entry


def environment_stack(project: Project, index: str, env: str) -> list[int]:
    """The versions ``env`` went through, oldest first, with rolled-back ones popped."""
    stack: list[int] = []
    for entry in project.catalog.history(index, env):
        if entry.action == "rollback":
            if stack:
                stack.pop()
        else:
            stack.append(entry.to_version)
    return stack


def rollback(
    project: Project, index: str, env: str = PRODUCTION, *, reason: str | None = None
) -> HistoryEntry:
    """Return ``env`` to the version it pointed at before its latest promotion."""
    stack = environment_stack(project, index, env)
    current = project.catalog.environments(index).get(env)
    if current is None:
        raise IndexNotFoundError(f"index {index!r} has no {env!r} environment to roll back")
    if len(stack) < 2:
        raise PromotionError(
            f"{index} {env} has no earlier version to roll back to (it only ever pointed at "
            f"version {current.version}); promote another version instead"
        )
    target = project.catalog.version(index, stack[-2])
    entry = project.catalog.move_environment(
        index,
        env,
        target,
        action="rollback",
        actor=_actor(),
        reason=reason,
        evidence={"rolled_back_from": current.version},
        expected_from=current.version,
    )
    if env == PRODUCTION:
        _follow_alias(project, index, target)
    return entry


def _follow_alias(project: Project, index: str, info: VersionInfo) -> None:
    """Keep the raw Qdrant alias ``<index>`` on the production generation."""
    generation = project.catalog.generation(info.generation_id)
    project.store.set_alias(index, generation.collection)
