"""Run an index's eval sets against one of its versions and store the results as evidence.

Each stored eval names what its scores depend on: the version, the eval set's content hash,
the retrieval it searched with (mode and grouping: :func:`~ragops.ranking.retrieval_label`),
the prompt version that generated answers, and the judge. Gates read exactly that evidence
(:mod:`ragops.environments.gates`). An eval that could not search at all (every question
failed, or the store was unavailable) raises and stores nothing, so it never hides good
evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragops.config import DEFAULT_CUTOFFS
from ragops.errors import ConfigError, EvalError, IndexNotFoundError
from ragops.ranking import resolve_mode, retrieval_label

if TYPE_CHECKING:  # pragma: no cover
    from ragops.config import EvalSetConfig, IndexConfig
    from ragops.evals.runner import EvalReport
    from ragops.llm.prompts import PromptVersion
    from ragops.project import Project

__all__ = ["EvalRun", "evaluate_index"]


@dataclass(frozen=True)
class EvalRun:
    """One eval set run on one version (with one prompt version and one judge, if any)."""

    index: str
    version: int
    dataset: str
    dataset_sha256: str
    report: EvalReport
    prompt: PromptVersion | None = None
    judge: str | None = None
    usage: dict[str, Any] | None = None
    eval_id: int | None = None
    #: The eval set's ``k`` (what its answers are generated from); the report measures
    #: every cutoff up to ``report.k``.
    k: int | None = None
    #: How it searched: ``hybrid-rrf/doc_id`` (see :func:`ragops.ranking.retrieval_label`).
    retrieval: str = "dense"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "version": self.version,
            "dataset": self.dataset,
            "dataset_sha256": self.dataset_sha256,
            "retrieval": self.retrieval,
            "k": self.k if self.k is not None else self.report.k,
            "questions": len(self.report.samples),
            "cutoffs": sorted({int(m.rsplit("@", 1)[1]) for m in self.report.metrics if "@" in m}),
            "metrics": self.report.metrics,
            "counts": self.report.counts,
            "skipped": self.report.skipped,
            "errors": len(self.report.errors),
            "seconds": round(self.report.seconds, 3),
            "prompt": self.prompt.ref if self.prompt is not None else None,
            "judge": self.judge,
            "usage": self.usage,
            "eval_id": self.eval_id,
        }


def evaluate_index(
    project: Project,
    index: str,
    *,
    version: int | None = None,
    dataset: str | None = None,
    prompt: PromptVersion | None = None,
    only_missing: bool = False,
    record_event: bool = True,
    modes: Sequence[str] | None = None,
) -> list[EvalRun]:
    """Evaluate ``version`` (default: the newest) on the index's eval sets (or one of them).

    Retrieval metrics always. When the index names a prompt and ``llm:`` and ``judge:`` are
    configured, answers are generated with ``prompt`` (default: the index prompt's
    ``production`` version) and scored by the judge; otherwise those metrics are reported as
    skipped with the reason. ``only_missing`` skips eval sets that already have matching
    evidence for this version, prompt version and judge. ``record_event``: record what was
    measured as an observation of the index's Dagster ``eval`` asset (see
    :mod:`ragops.events`); the pipeline's evaluate step records its candidate itself.
    ``modes`` (``["dense", "sparse", "hybrid"]``): score each retrieval mode, each stored as
    its own evidence; default: the index's ``retrieval.mode`` only.
    """
    from ragops.evals.generated import generate_and_judge
    from ragops.evals.results import write_results
    from ragops.evals.runner import RetrievedContext, run_retrieval_eval
    from ragops.evals.sets import eval_group_by, eval_set_sha256, load_eval_set
    from ragops.llm.prompts import index_prompt
    from ragops.retriever import Retriever

    config = project.config.index(index)
    eval_sets = _eval_sets(config, index, dataset)
    if version is None:
        latest = project.catalog.versions.latest(index)
        if latest is None:
            raise IndexNotFoundError(
                f"index {index!r} has no version yet; run `ragops sync {index}`"
            )
        version = latest.number
    retrievers: dict[tuple[str, ...] | None, Retriever] = {}
    if prompt is None:
        prompt = index_prompt(project, index)
    judge_model = project.config.judge.model if project.config.judge else None
    generation = project.catalog.generations.get(
        project.catalog.versions.get(index, version).generation_id
    )
    used_modes = [
        resolve_mode(mode, config.retrieval, generation, f"{index} version {version}")
        for mode in dict.fromkeys(list(modes) if modes else [None])
    ]

    def searcher(principals: list[str] | None, mode: str, group_by: str | None) -> Any:
        """Searches of the version in ``mode``, as ``principals`` (the eval set's) read it."""
        key = tuple(principals) if principals is not None else None
        if key not in retrievers:
            retrievers[key] = Retriever(project, index, version=version, principals=key, log=False)
        retriever = retrievers[key]

        def search(questions: list[str], k: int) -> list[list[RetrievedContext]]:
            return [
                [RetrievedContext(h.chunk_id, h.doc_id, h.text, h.score) for h in hits]
                for hits in retriever.search_many(questions, k=k, mode=mode, group_by=group_by)
            ]

        return search

    runs = []
    prompt_sha = prompt.sha256 if prompt is not None else None
    for eval_set in eval_sets:  # read once, scored in each mode
        path = project.config.eval_path(eval_set)
        content = eval_set_sha256(path)
        samples = load_eval_set(path)
        group_by = eval_group_by(eval_set, samples)
        for mode in used_modes:
            label = retrieval_label(mode, config.retrieval.fusion, group_by)
            if only_missing and project.catalog.evals.matching(
                index, version, eval_set.name, content, prompt_sha, judge_model, same_judge=True,
                retrieval=label,
            ):  # fmt: skip
                continue
            cutoffs = tuple(sorted({*DEFAULT_CUTOFFS, eval_set.k}))
            report = run_retrieval_eval(
                samples,
                searcher(eval_set.principals, mode, group_by),
                k=max(cutoffs),
                ks=cutoffs,
                dataset_name=eval_set.name,
            )
            _refuse_if_nothing_searched(report, index, version, eval_set)
            extra, usage, judged_by = generate_and_judge(
                project, index, version, samples, prompt, eval_set.k, report, eval_set.principals
            )
            results = write_results(
                project.config.data_path / "evals" / index / f"v{version:06d}",
                eval_set.name if len(used_modes) == 1 else f"{eval_set.name}.{mode}",
                report,
                extra,
            )
            summary = {key: value for key, value in report.to_dict().items() if key != "samples"}
            summary["questions"] = len(report.samples)
            eval_id = project.catalog.evals.record(
                index,
                version,
                eval_set.name,
                eval_set.k,
                report.metrics,
                summary,
                report.seconds,
                dataset_sha256=content,
                prompt_sha256=prompt_sha,
                judge=judged_by,
                results_path=str(results),
                usage=usage,
                retrieval=label,
            )
            runs.append(
                EvalRun(
                    index, version, eval_set.name, content, report, prompt, judged_by, usage,
                    eval_id, eval_set.k, label,
                )
            )  # fmt: skip
    if runs and record_event:
        _record(project, index, version, prompt)
    return runs


def _record(project: Project, index: str, version: int, prompt: PromptVersion | None) -> None:
    """The eval as an event of the index's Dagster ``eval`` asset: a materialization when it
    measured what the pipeline's evaluate step would (the newest version, with the candidate
    prompt version: the newest of the prompt file), an observation otherwise."""
    from ragops.events import describe
    from ragops.llm.prompts import index_prompt

    def events() -> list[Any]:
        latest = project.catalog.versions.latest(index)
        name = project.config.index(index).prompt
        candidate_prompt = index_prompt(project, index, "latest" if name else None)
        candidate = (
            latest is not None
            and latest.number == version
            and (prompt.sha256 if prompt else None)
            == (candidate_prompt.sha256 if candidate_prompt else None)
        )
        sha = prompt.sha256 if prompt is not None else None
        return [describe.eval_event(project, index, version, name, sha, candidate=candidate)]

    project.events.emit(events)


def _refuse_if_nothing_searched(
    report: EvalReport, index: str, version: int, eval_set: EvalSetConfig
) -> None:
    failed = [s for s in report.samples if s.error and s.error.startswith("search failed")]
    if report.samples and len(failed) == len(report.samples):
        raise EvalError(
            f"eval set {eval_set.name!r} on {index} version {version}: every search failed, so "
            f"nothing was stored (first error: {failed[0].error}); fix the cause and run the "
            "eval again"
        )


def _eval_sets(config: IndexConfig, index: str, dataset: str | None) -> list[EvalSetConfig]:
    eval_sets = list(config.evals)
    if dataset is not None:
        eval_sets = [e for e in eval_sets if e.name == dataset]
        if not eval_sets:
            known = ", ".join(e.name for e in config.evals) or "none"
            raise ConfigError(
                f"index {index!r} has no eval set {dataset!r} (eval sets: {known}); declare it "
                f"under indexes.{index}.evals in ragops.yaml"
            )
    if not eval_sets:
        raise EvalError(
            f"index {index!r} has no eval sets; add one under indexes.{index}.evals in "
            "ragops.yaml (a JSONL file of questions with reference_doc_ids)"
        )
    return eval_sets
