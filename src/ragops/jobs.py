"""The main job: sync every index, evaluate each new version, promote it when its gates pass.

It is what ``ragops run`` (and the README's quick start) does, and what the Dagster assets do
one step at a time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragops.errors import PromotionError

if TYPE_CHECKING:  # pragma: no cover
    from ragops.evaluation import EvalRun
    from ragops.project import Project
    from ragops.retriever import Hit
    from ragops.sync import SyncProgress, SyncResult

__all__ = ["IndexSummary", "JobSummary", "run_main_job"]

DEFAULT_SAMPLE_QUERY = "How do I roll back a bad index version?"


@dataclass
class IndexSummary:
    sync: SyncResult
    evals: list[EvalRun] = field(default_factory=list)
    promotion: str | None = None
    promoted: bool = False
    sample_query: str | None = None
    sample_hits: list[Hit] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sync": self.sync.to_dict(),
            "evals": [run.to_dict() for run in self.evals],
            "promotion": self.promotion,
            "promoted": self.promoted,
            "sample_search": {
                "query": self.sample_query,
                "hits": [hit.to_dict() for hit in self.sample_hits],
            },
        }


@dataclass
class JobSummary:
    indexes: list[IndexSummary]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "indexes": [item.to_dict() for item in self.indexes],
            "seconds": round(self.seconds, 3),
        }


def run_main_job(
    project: Project,
    index: str | None = None,
    *,
    env: str = "production",
    query: str | None = None,
    progress: SyncProgress | None = None,
) -> JobSummary:
    """Sync → eval (new versions only) → promote to ``env`` if the gates pass → sample search."""
    from ragops.evaluation import evaluate_index
    from ragops.lifecycle import promote
    from ragops.retriever import Retriever

    started = time.perf_counter()
    summaries = []
    for result in project.sync(index, progress=progress):
        item = IndexSummary(sync=result)
        summaries.append(item)
        name, version = result.index, result.version
        if version is None:
            item.promotion = "nothing to promote: no document could be indexed"
            continue
        config = project.config.index(name)
        evaluated = {row["dataset"] for row in project.catalog.eval_results(name, version)}
        if config.evals and not {e.name for e in config.evals} <= evaluated:
            item.evals = evaluate_index(project, name, version=version)
        pointer = project.catalog.environments(name).get(env)
        if pointer is not None and pointer.version == version:
            item.promotion = f"{env} already at version {version}"
        else:
            try:
                promote(project, name, version, env)
                item.promoted = True
                item.promotion = f"promoted version {version} to {env}"
            except PromotionError as exc:
                item.promotion = f"not promoted: {exc}"
        sample = query or _first_question(project, name) or DEFAULT_SAMPLE_QUERY
        pinned = None if item.promoted or pointer is not None else version
        retriever = Retriever(project, name, env=env, version=pinned)
        item.sample_query = sample
        item.sample_hits = retriever.search(sample, k=3)
    return JobSummary(summaries, time.perf_counter() - started)


def _first_question(project: Project, index: str) -> str | None:
    from ragops.evals import load_eval_set

    for eval_set in project.config.index(index).evals:
        samples = load_eval_set(project.config.eval_path(eval_set))
        if samples:
            return samples[0].question
    return None
