"""Answers generated and judged during an eval: the index's prompt version renders each
question with its retrieved chunks, the ``llm:`` endpoint answers, and the ``judge:`` scores the
answers with ragas' LLM metrics. With no judge nothing is generated (nor paid for)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ragops.evals.runner import LLM_METRICS, NO_JUDGE_REASON

if TYPE_CHECKING:  # pragma: no cover
    from ragops.evals.runner import EvalReport
    from ragops.evals.sets import EvalSample
    from ragops.llm.prompts import PromptVersion
    from ragops.project import Project

__all__ = ["generate_and_judge"]


def generate_and_judge(
    project: Project,
    index: str,
    version: int,
    samples: Sequence[EvalSample],
    prompt: PromptVersion | None,
    k: int,
    report: EvalReport,
    principals: Sequence[str] | None = None,
) -> tuple[dict[str, list[Any]], dict[str, Any] | None, str | None]:
    """Generate answers and judge them (retrieving as ``principals``); fold the scores into
    ``report``.

    Returns the extra per-question columns, the LLM usage, and the judge's model name.
    """
    from ragops.evals.judge import JudgeInput, judge_answers
    from ragops.llm.answers import ask_many

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
        project, index, [s.question for s in samples], version=version, k=k, prompt=prompt,
        principals=principals,
    )  # fmt: skip
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
