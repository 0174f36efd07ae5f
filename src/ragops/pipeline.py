"""The pipeline: sync → evaluate → gate → promote, one step at a time. Every face calls it.

``ragops run`` calls :func:`run`; the Dagster assets call :func:`stage`, :func:`build`,
:func:`evaluate`, :func:`gate` and :func:`release` one asset each. Each step takes exactly what
the step before it produced, so what is promoted is what was evaluated::

    staged    = stage(project, "docs")                 # list, diff, parse, chunk
    built     = build(project, "docs", staged)         # embed, write, commit; retention
    candidate = evaluate(project, built)               # (version, prompt version) + evidence
    verdict   = gate(project, candidate)               # every gate on every eval set
    promotion = release(project, verdict)              # moves exactly that pair

The candidate prompt is the newest registered version of the index's prompt file (what the
file says now); a passing release moves the index environment and the prompt alias together.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragops.catalog import INDEX
from ragops.environments.gates import PRODUCTION, GateResult, check_gates
from ragops.environments.promotion import Promotion, promote
from ragops.errors import PromotionError
from ragops.events import describe

if TYPE_CHECKING:  # pragma: no cover
    from ragops.evals.evaluate import EvalRun
    from ragops.hits import Hit
    from ragops.project import Project
    from ragops.versions.staged import StagedChanges
    from ragops.versions.sync import SyncProgress, SyncResult

__all__ = [
    "Built",
    "Candidate",
    "IndexRun",
    "RunSummary",
    "Staging",
    "Verdict",
    "build",
    "build_staged",
    "evaluate",
    "gate",
    "release",
    "run",
    "stage",
    "stage_to_disk",
    "sync",
]

#: Seconds a release waits for the index's lease (a sync of the same index may hold it).
RELEASE_WAIT_SECONDS = 600.0
DEFAULT_SAMPLE_QUERY = "How do I roll back a bad index version?"


@dataclass(frozen=True)
class Built:
    """What the build step produced: the index's newest version (None: nothing indexed)."""

    index: str
    version: int | None
    created: bool = False
    sync: SyncResult | None = None


@dataclass(frozen=True)
class Staging:
    """What :func:`stage_to_disk` left for the build step: where, and how much."""

    index: str
    folder: str
    counts: dict[str, int]
    parse_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "folder": self.folder, "counts": self.counts,
            "parse_seconds": self.parse_seconds,
        }  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    """What the evaluate step produced: the exact (version, prompt version) pair that may be
    promoted, with the evals run for it now (evals already stored are reused)."""

    index: str
    version: int
    prompt_name: str | None = None
    prompt_sha256: str | None = None
    runs: tuple[EvalRun, ...] = ()
    baseline_runs: tuple[EvalRun, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "version": self.version,
            "prompt": self.prompt_name,
            "prompt_sha256": self.prompt_sha256,
            "evals": [r.to_dict() for r in self.runs],
            "baseline_evals": [r.to_dict() for r in self.baseline_runs],
        }


@dataclass(frozen=True)
class Verdict:
    """The gates of one candidate for one environment (gates apply to production only)."""

    candidate: Candidate
    env: str
    gates: tuple[GateResult, ...] = ()

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "version": self.candidate.version,
            "prompt_sha256": self.candidate.prompt_sha256,
            "passed": self.passed,
            "gates": [g.to_dict() for g in self.gates],
        }


def stage(project: Project, index: str, progress: SyncProgress | None = None) -> StagedChanges:
    """List, diff, parse and chunk the index's changes (nothing embedded or written)."""
    from ragops.versions.sync import stage_index

    return stage_index(project, index, progress)


def build(
    project: Project,
    index: str,
    staged: StagedChanges | None = None,
    progress: SyncProgress | None = None,
    *,
    allow_mass_delete: bool = False,
    full_listing: bool = False,
) -> Built:
    """Build the index's next version (from ``staged`` when it still matches), then apply
    retention, under one hold of the index's lease. ``allow_mass_delete`` and
    ``full_listing``: see :func:`ragops.versions.sync.sync_index`."""
    from ragops.versions.retention import collect_garbage
    from ragops.versions.sync import sync_index

    with project.lease(index, "sync") as lease:
        result = sync_index(
            project, index, progress, staged, lease=lease,
            allow_mass_delete=allow_mass_delete, full_listing=full_listing,
        )  # fmt: skip
        if result.created_version:
            result.pruned_versions = collect_garbage(project, index, lease=lease).pruned
    if result.created_version:
        project.events.emit(
            lambda: [
                *describe.stage_events(project, result),
                describe.version_event(project, result),
            ]
        )
    return Built(index, result.version, result.created_version, result)


def stage_to_disk(project: Project, index: str, progress: SyncProgress | None = None) -> Staging:
    """:func:`stage`, written to the index's staging folder for :func:`build_staged` (Dagster's
    chunks step; a later step, or the project's server, builds from it)."""
    from ragops.versions.staged import staging_dir, write_staged

    staged = stage(project, index, progress)
    folder = staging_dir(project.config.data_path, index)
    write_staged(folder, staged)
    return Staging(index, str(folder), staged.counts(), round(staged.seconds, 3))


def build_staged(
    project: Project,
    index: str,
    progress: SyncProgress | None = None,
    *,
    allow_mass_delete: bool = False,
) -> Built:
    """:func:`build` from the changes :func:`stage` left in the index's staging folder (where
    Dagster's chunks step writes them; stale staging is ignored), then clear the folder."""
    from ragops.versions.staged import clear_staged, read_staged, staging_dir

    folder = staging_dir(project.config.data_path, index)
    built = build(
        project, index, staged=read_staged(folder), progress=progress,
        allow_mass_delete=allow_mass_delete,
    )  # fmt: skip
    clear_staged(folder)
    return built


def sync(
    project: Project,
    index: str | None = None,
    progress: SyncProgress | None = None,
    *,
    allow_mass_delete: bool = False,
    full_listing: bool = False,
) -> list[SyncResult]:
    """Build every index (or one), in configuration order; what each sync did.
    ``full_listing``: list every source in full, ignoring saved cursors."""
    results = []
    for name in _index_names(project, index):
        built = build(
            project, name, progress=progress, allow_mass_delete=allow_mass_delete,
            full_listing=full_listing,
        )  # fmt: skip
        assert built.sync is not None
        results.append(built.sync)
    return results


def evaluate(project: Project, built: Built | Candidate, *, prompt: str = "candidate") -> Candidate:
    """Evaluate the version ``built`` produced with the candidate prompt version (or the
    ``prompt`` ref given); evals already stored for the same evidence are reused.

    When the index has relative gates, production's own evals on the current eval sets are
    measured too when missing (they are the baseline those gates compare with).
    """
    from ragops.evals.evaluate import evaluate_index
    from ragops.llm.prompts import index_prompt

    if built.version is None:
        raise PromotionError(f"index {built.index!r} has no version to evaluate: nothing indexed")
    config = project.config.index(built.index)
    ref = None if config.prompt is None else ("latest" if prompt == "candidate" else prompt)
    prompt_version = index_prompt(project, built.index, ref)
    candidate = Candidate(
        built.index,
        built.version,
        config.prompt,
        prompt_version.sha256 if prompt_version is not None else None,
    )
    if not config.evals:
        _record_candidate(project, candidate)
        return candidate
    runs = evaluate_index(
        project,
        built.index,
        version=built.version,
        prompt=prompt_version,
        only_missing=True,
        record_event=False,  # this step records the candidate's eval itself (below)
    )
    baseline: list[EvalRun] = []
    production = project.catalog.pointers.get(INDEX, built.index, PRODUCTION)
    if production is not None and any(g.relative for g in config.parsed_gates()):
        served = index_prompt(project, built.index, PRODUCTION if config.prompt else None)
        baseline = evaluate_index(
            project, built.index, version=production.version, prompt=served, only_missing=True
        )
    evaluated = Candidate(
        candidate.index,
        candidate.version,
        candidate.prompt_name,
        candidate.prompt_sha256,
        tuple(runs),
        tuple(baseline),
    )
    _record_candidate(project, evaluated)
    return evaluated


def _record_candidate(project: Project, candidate: Candidate) -> None:
    project.events.emit(
        lambda: [
            describe.eval_event(
                project, candidate.index, candidate.version, candidate.prompt_name,
                candidate.prompt_sha256, candidate=True,
            )
        ]
    )  # fmt: skip


def gate(project: Project, candidate: Candidate, env: str = PRODUCTION) -> Verdict:
    """Check the gates of the candidate for ``env`` (production only; others have none)."""
    if env != PRODUCTION:
        return Verdict(candidate, env)
    results = check_gates(project, candidate.index, candidate.version, candidate.prompt_sha256)
    verdict = Verdict(candidate, env, tuple(results))
    project.events.emit(lambda: [describe.gate_event(verdict)])
    return verdict


def release(
    project: Project,
    verdict: Verdict,
    *,
    force: bool = False,
    reason: str | None = None,
    wait: float = RELEASE_WAIT_SECONDS,
) -> Promotion:
    """Promote exactly the candidate of ``verdict`` to its environment (the gates are checked
    again under the index's lease). An automatic promotion: an environment held against it is
    skipped (action ``held``). PromotionError when the gates refuse."""
    candidate = verdict.candidate
    return promote(
        project,
        candidate.index,
        candidate.version,
        verdict.env,
        prompt=candidate.prompt_sha256,
        force=force,
        reason=reason,
        wait=wait,
        automatic=True,
    )


# -- the main job --------------------------------------------------------------------------------


@dataclass
class IndexRun:
    """What the main job did for one index."""

    sync: SyncResult
    candidate: Candidate | None = None
    promotions: list[Promotion] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    #: Every environment's gate verdict on the candidate, with each gate's evidence.
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    note: str | None = None
    sample_query: str | None = None
    sample_hits: list[Hit] = field(default_factory=list)

    @property
    def evals(self) -> tuple[EvalRun, ...]:
        return self.candidate.runs if self.candidate is not None else ()

    @property
    def held(self) -> dict[str, str]:
        """Environments the job left alone because they are held: env → who, since, why."""
        return {
            p.env: p.hold.describe()
            for p in self.promotions
            if p.action == "held" and p.hold is not None
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "sync": self.sync.to_dict(),
            "candidate": self.candidate.to_dict() if self.candidate is not None else None,
            "promotions": [p.to_dict() for p in self.promotions],
            "refused": self.refused,
            "held": self.held,
            "verdicts": {env: verdict.to_dict() for env, verdict in self.verdicts.items()},
            "note": self.note,
            "sample_search": {
                "query": self.sample_query,
                "hits": [hit.to_dict() for hit in self.sample_hits],
            },
        }


@dataclass
class RunSummary:
    indexes: list[IndexRun]
    seconds: float

    @property
    def refused(self) -> bool:
        """True when a gate refused a promotion the job was to make."""
        return any(item.refused for item in self.indexes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "indexes": [item.to_dict() for item in self.indexes],
            "refused": self.refused,
            "seconds": round(self.seconds, 3),
        }


def run(
    project: Project,
    index: str | None = None,
    *,
    envs: Sequence[str] | None = None,
    query: str | None = None,
    progress: SyncProgress | None = None,
) -> RunSummary:
    """The main job: for every index (or one), build → evaluate → gate → release to each of
    ``envs`` (default: the index's ``auto_promote``), then a sample search."""
    started = time.perf_counter()
    items = []
    for name in _index_names(project, index):
        with project.events.deferred():  # this index's events reach Dagster together
            item = _run_index(project, name, envs, progress)
        items.append(item)
        if item.sync.version is not None:
            _sample_search(project, item, name, item.sync.version, query)
    return RunSummary(items, time.perf_counter() - started)


def _run_index(
    project: Project, name: str, envs: Sequence[str] | None, progress: SyncProgress | None
) -> IndexRun:
    built = build(project, name, progress=progress)
    assert built.sync is not None
    item = IndexRun(sync=built.sync)
    if built.version is None:
        item.note = "nothing to promote: no document could be indexed"
        return item
    item.candidate = evaluate(project, built)
    targets = list(envs) if envs is not None else project.config.index(name).auto_promote
    for env in targets:
        verdict = item.verdicts[env] = gate(project, item.candidate, env)
        try:
            item.promotions.append(release(project, verdict))
        except PromotionError as exc:
            item.refused[env] = str(exc)
    if not targets:
        item.note = f"indexes.{name}.auto_promote is empty: evaluated, nothing promoted"
    return item


def _sample_search(
    project: Project, item: IndexRun, index: str, version: int, query: str | None
) -> None:
    from ragops.evals.sets import load_eval_set
    from ragops.retriever import Retriever

    sample = query
    for eval_set in project.config.index(index).evals:
        if sample is None:
            samples = load_eval_set(project.config.eval_path(eval_set))
            sample = samples[0].question if samples else None
    item.sample_query = sample or DEFAULT_SAMPLE_QUERY
    pointer = project.catalog.pointers.get(INDEX, index, PRODUCTION)
    retriever = Retriever(project, index, version=None if pointer else version, log=False)
    item.sample_hits = retriever.search(item.sample_query, k=3)


def _index_names(project: Project, index: str | None) -> list[str]:
    """``[index]`` (checked), or every index in configuration order."""
    names = [index] if index else list(project.config.indexes)
    for name in names:
        project.config.index(name)  # ConfigError with a "did you mean" before any work
    return names
