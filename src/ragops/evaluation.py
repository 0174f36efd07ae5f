"""Run an index's eval sets against one of its versions and store the results."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragops.errors import ConfigError, EvalError, IndexNotFoundError

if TYPE_CHECKING:  # pragma: no cover
    from ragops.evals import EvalReport, EvalSample
    from ragops.project import Project
    from ragops.prompts import PromptVersion

__all__ = ["EvalRun", "evaluate_index", "prompt_for"]

#: Cutoffs always reported (the eval set's own k is added); MRR and the ragas metrics read the
#: top max(cutoffs) hits.
DEFAULT_CUTOFFS = (1, 5, 10)


@dataclass(frozen=True)
class EvalRun:
    """One eval set run on one version (with one prompt version and one judge, if any)."""

    index: str
    version: int
    dataset: str
    report: EvalReport
    prompt: PromptVersion | None = None
    judge: str | None = None
    usage: dict[str, Any] | None = None

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
            "prompt": self.prompt.ref if self.prompt is not None else None,
            "judge": self.judge,
            "usage": self.usage,
        }


def evaluate_index(
    project: Project,
    index: str,
    *,
    version: int | None = None,
    dataset: str | None = None,
    prompt_ref: str | None = None,
) -> list[EvalRun]:
    """Evaluate ``version`` (default: the newest) on the index's eval sets (or one of them).

    Retrieval metrics always. When the index names a ``prompt`` and ``llm:`` is configured,
    answers are generated with the prompt version ``prompt_ref`` (default: its ``production``
    alias) and, with a ``judge:``, scored by ragas' LLM metrics; otherwise those metrics are
    reported as skipped with the reason. Results are stored per (version, prompt version,
    eval set, judge).
    """
    from ragops.eval_results import write_results
    from ragops.evals import RetrievedContext, load_eval_set, run_retrieval_eval
    from ragops.retriever import Retriever

    config = project.config.index(index)
    eval_sets = _eval_sets(config, index, dataset)
    if version is None:
        latest = project.catalog.latest_version(index)
        if latest is None:
            raise IndexNotFoundError(
                f"index {index!r} has no version yet; run `ragops sync {index}`"
            )
        version = latest.number
    retriever = Retriever(project, index, version=version)
    prompt = prompt_for(project, index, prompt_ref)

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
        extra, usage, judge_model = _generate_and_judge(
            project, index, version, samples, prompt, eval_set.k, report
        )
        results = write_results(
            project.config.data_path / "evals" / index / f"v{version:06d}",
            eval_set.name,
            report,
            extra,
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
            prompt_sha256=prompt.sha256 if prompt is not None else None,
            judge=judge_model,
            results_path=str(results),
            usage=usage,
        )
        runs.append(EvalRun(index, version, eval_set.name, report, prompt, judge_model, usage))
    return runs


def _eval_sets(config: Any, index: str, dataset: str | None) -> list[Any]:
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


def prompt_for(project: Project, index: str, ref: str | None = None) -> PromptVersion | None:
    """The prompt version the index's answers are generated with (None: no prompt).

    Registers edited prompt files first; ``ref`` is an alias, ``v<N>`` or a hash
    (default: the ``production`` alias).
    """
    name = project.config.index(index).prompt
    if name is None:
        if ref is not None:
            raise ConfigError(
                f"--prompt {ref!r} given but index {index!r} names no prompt; set "
                f"indexes.{index}.prompt in ragops.yaml"
            )
        return None
    from ragops.prompts import PromptRegistry

    registry = PromptRegistry.for_project(project)
    registry.scan()
    return registry.get(name, ref or "production")


def _generate_and_judge(
    project: Project,
    index: str,
    version: int,
    samples: Sequence[EvalSample],
    prompt: PromptVersion | None,
    k: int,
    report: EvalReport,
) -> tuple[dict[str, list[Any]], dict[str, Any] | None, str | None]:
    """Generate answers and judge them; fold the scores into ``report``.

    Returns the extra per-question columns, the LLM usage, and the judge's model name.
    """
    from ragops.evals import LLM_METRICS, NO_JUDGE_REASON
    from ragops.evals.judge import JudgeInput, judge_answers
    from ragops.generation import ask_many

    llm, judge = project.config.llm, project.config.judge
    if judge is None or llm is None or prompt is None:
        # Nothing is generated (nor paid for) when nothing would judge it.
        if judge is None:
            reason = NO_JUDGE_REASON
        elif llm is None:
            reason = "no generator LLM configured (llm:)"
        else:
            reason = f"no prompt configured (indexes.{index}.prompt)"
        for name in LLM_METRICS:
            report.skipped[name] = reason
        return {}, None, None
    started = time.perf_counter()
    answers = ask_many(
        project, index, [s.question for s in samples], version=version, k=k, prompt=prompt
    )
    generation = {
        "prompt_tokens": sum(a.prompt_tokens for a in answers),
        "completion_tokens": sum(a.completion_tokens for a in answers),
        "cost": sum(a.cost for a in answers),
        "failed": sum(1 for a in answers if a.error),
        "seconds": round(time.perf_counter() - started, 3),
        "model": llm.model,
    }
    inputs = [
        JudgeInput.from_answer(answer, sample.reference_answer)
        for answer, sample in zip(answers, samples, strict=True)
    ]
    judged = judge_answers(inputs, judge, embeddings=project.embedder(index))
    for name in LLM_METRICS:
        report.skipped.pop(name, None)
    report.skipped.update(judged.skipped)
    report.metrics.update(judged.means)
    for name, count in judged.counts.items():
        report.counts[name] = count
    for name, failed in judged.failed_counts.items():
        report.counts[f"{name}_failed"] = failed
    for sample, scores, errors, answer in zip(
        report.samples, judged.per_sample, judged.errors, answers, strict=True
    ):
        sample.metrics.update(scores)
        problems = [f"{m}: {e}" for m, e in errors.items()]
        if answer.error:
            problems.insert(0, f"generation: {answer.error}")
        if problems:
            sample.error = "; ".join(filter(None, [sample.error, *problems]))
    usage = {
        "generation": generation,
        "judge": {
            **judged.usage.to_dict(),
            "seconds": round(judged.seconds, 3),
            "model": judged.model,
        },
    }
    extra = {
        "answer": [a.answer for a in answers],
        "prompt_sha256": [prompt.sha256] * len(answers),
    }
    return extra, usage, judged.model
