"""Run an index's eval sets against one of its versions and store the results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragops.errors import ConfigError, EvalError, IndexNotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from ragops.evals import EvalReport
    from ragops.project import Project

__all__ = ["EvalRun", "evaluate_index"]

#: Cutoffs always reported (the eval set's own k is added); MRR and the ragas metrics read the
#: top max(cutoffs) hits.
DEFAULT_CUTOFFS = (1, 5, 10)


@dataclass(frozen=True)
class EvalRun:
    """One eval set run on one version."""

    index: str
    version: int
    dataset: str
    report: EvalReport

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "version": self.version,
            "dataset": self.dataset,
            "k": self.report.k,
            "metrics": self.report.metrics,
            "counts": self.report.counts,
            "skipped": self.report.skipped,
            "errors": len(self.report.errors),
            "seconds": round(self.report.seconds, 3),
        }


def evaluate_index(
    project: Project, index: str, *, version: int | None = None, dataset: str | None = None
) -> list[EvalRun]:
    """Evaluate ``version`` (default: the newest) on the index's eval sets (or one of them)."""
    from ragops.eval_results import write_results
    from ragops.evals import RetrievedContext, load_eval_set, run_retrieval_eval
    from ragops.retriever import Retriever

    config = project.config.index(index)
    eval_sets = config.evals
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
    if version is None:
        latest = project.catalog.latest_version(index)
        if latest is None:
            raise IndexNotFoundError(
                f"index {index!r} has no version yet; run `ragops sync {index}`"
            )
        version = latest.number
    retriever = Retriever(project, index, version=version)

    def search(questions: list[str], k: int) -> list[list[RetrievedContext]]:
        return [
            [RetrievedContext(h.chunk_id, h.doc_id, h.text, h.score) for h in hits]
            for hits in retriever.search_many(questions, k=k)
        ]

    runs = []
    for eval_set in eval_sets:
        samples = load_eval_set(project.config.eval_path(eval_set))
        cutoffs = tuple(sorted({*DEFAULT_CUTOFFS, eval_set.k}))
        report = run_retrieval_eval(
            samples, search, k=max(cutoffs), ks=cutoffs, dataset_name=eval_set.name
        )
        results = write_results(
            project.config.data_path / "evals" / index / f"v{version:06d}", eval_set.name, report
        )
        summary = {key: value for key, value in report.to_dict().items() if key != "samples"}
        project.catalog.record_eval(
            index,
            version,
            eval_set.name,
            eval_set.k,
            report.metrics,
            summary,
            report.seconds,
            results_path=str(results),
        )
        runs.append(EvalRun(index, version, eval_set.name, report))
    return runs
