"""LLM-judged metrics (ragas 0.4.3) against a real OpenAI-protocol server on loopback.

The stub answers ragas' real prompts with scripted verdicts, so each expected score follows
from the script: e.g. faithfulness = supported statements / statements = 2/4 = 0.5.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest

from ragops.config import LLMConfig
from ragops.errors import EvalError
from ragops.evals.judge import NO_REFERENCE_REASON, JudgeInput, judge_answers
from ragops.evals.runner import NO_JUDGE_REASON
from tests import openai_stub as stub_module
from tests.openai_stub import OpenAIStub, RecordedRequest, Reply

openai_stub = stub_module.openai_stub  # the fixture: a started stub, stopped afterwards

# Distinctive text of ragas 0.4.3's prompts (ragas.metrics.collections.*.util).
STATEMENTS = "Break down each sentence into one or more fully understandable statements"
NLI = "judge the faithfulness of a series of statements based on a given context"
RELEVANCE = "Generate a question for the given answer and identify if the answer is noncommittal"
USEFUL = "verify if the context was useful in arriving at the given answer"

TIDES = JudgeInput(
    question="What causes the tides?",
    answer="The Moon causes the tides. The Sun helps. Cheese is yellow. Tides repeat daily.",
    contexts=["Tides are mostly caused by the Moon.", "The Sun also pulls on the oceans."],
    reference_answer="Mostly the Moon's gravity.",
)
BREAD = JudgeInput(
    question="How long should bread dough rise?",
    answer="About an hour. Bake at 230 degrees. Use rye. Add sugar.",
    contexts=["Tomatoes need sun.", "Let the dough rise for an hour."],
    reference_answer="One hour.",
)


def sample_input(request: RecordedRequest) -> dict[str, Any]:
    """The sample ragas embedded in its prompt (the JSON after 'input:')."""
    prompt = request.prompt  # every message: a re-ask adds the judge's reply and the error
    start = prompt.index("Now perform the same with the following input\ninput: ")
    text = prompt[start:].split("input: ", 1)[1].split("\nOutput:", 1)[0]
    return json.loads(text)


def judge(request: RecordedRequest) -> Reply:
    """A scripted judge: two of four statements supported, the last context useful, …"""
    prompt = request.prompt
    data = sample_input(request)
    if STATEMENTS in prompt:
        return Reply(
            json={"statements": [s.strip() + "." for s in data["answer"].split(".") if s.strip()]}
        )
    if NLI in prompt:
        verdicts = [1, 1, 0, 0] if "Moon" in data["context"] else [1, 0, 0, 0]
        return Reply(
            json={
                "statements": [
                    {"statement": s, "reason": "scripted", "verdict": v}
                    for s, v in zip(data["statements"], verdicts, strict=False)
                ]
            }
        )
    if RELEVANCE in prompt:
        if "Moon" in data["response"]:
            return Reply(json={"question": TIDES.question, "noncommittal": 0})
        return Reply(json={"question": "Is it an hour?", "noncommittal": 1})
    if USEFUL in prompt:
        useful = "Sun" in data["context"] or "dough" in data["context"]
        return Reply(json={"reason": "scripted", "verdict": int(useful)})
    return Reply(status=400, content="the stub judge does not know this prompt")


def judge_config(stub: OpenAIStub, **overrides: Any) -> LLMConfig:
    settings: dict[str, Any] = {
        "base_url": stub.base_url,
        "model": "judge-model",
        "max_retries": 0,
        "price_per_1k_input_tokens": 1.0,
        "price_per_1k_output_tokens": 2.0,
    }
    settings.update(overrides)
    return LLMConfig.model_validate(settings)


def toy_embed(texts: list[str]) -> np.ndarray:
    return np.array([[1.0, len(t) % 7, 0.5] for t in texts])


def test_ragas_prompts_reach_the_judge_and_scores_follow_its_replies(
    openai_stub: OpenAIStub,
) -> None:
    openai_stub.default = judge
    report = judge_answers([TIDES, BREAD], judge_config(openai_stub))  # default embedder

    # the real ragas prompts, with each sample inside them
    requests = openai_stub.chat_requests()
    extraction = openai_stub.requests_containing(STATEMENTS)
    assert len(extraction) == 2
    assert {sample_input(r)["answer"] for r in extraction} == {TIDES.answer, BREAD.answer}
    assert "Ensure that no pronouns are used in any statement" in extraction[0].user_prompt
    nli = openai_stub.requests_containing(NLI)
    assert len(nli) == 2
    tides_nli = next(r for r in nli if "Moon" in sample_input(r)["context"])
    assert sample_input(tides_nli)["context"] == "\n".join(TIDES.contexts)
    assert sample_input(tides_nli)["statements"][0] == "The Moon causes the tides."
    assert len(openai_stub.requests_containing(RELEVANCE)) == 2 * 3  # strictness 3
    assert len(openai_stub.requests_containing(USEFUL)) == 2 * 2  # one per context
    first = requests[0].body
    assert first["model"] == "judge-model" and first["response_format"] == {"type": "json_object"}
    assert (
        first["messages"][0]["role"] == "system"
        and "json_schema" in first["messages"][0]["content"]
    )

    # scores computed from the scripted verdicts
    tides, bread = report.per_sample
    assert tides["faithfulness"] == pytest.approx(2 / 4)
    assert bread["faithfulness"] == pytest.approx(1 / 4)
    assert tides["answer_relevancy"] == pytest.approx(1.0, abs=1e-5)  # same question back
    assert bread["answer_relevancy"] == 0.0  # noncommittal
    assert tides["llm_context_precision"] == pytest.approx(0.5)  # useful only at rank 2
    assert bread["llm_context_precision"] == pytest.approx(0.5)
    assert report.means["faithfulness"] == pytest.approx(0.375)
    assert report.counts == dict.fromkeys(report.metrics, 2)
    assert report.failed_counts == dict.fromkeys(report.metrics, 0)
    assert report.errors == [{}, {}] and report.skipped == {}

    # the judge's usage and cost: 11 prompt + 7 completion tokens per stub reply
    n = len(requests)
    assert (report.usage.requests, report.usage.prompt_tokens) == (n, 11 * n)
    assert report.usage.cost == pytest.approx((11 * n * 1.0 + 7 * n * 2.0) / 1000)
    assert report.model == "judge-model" and report.seconds > 0
    assert json.dumps(report.to_dict())  # serialisable


def test_a_malformed_reply_fails_that_sample_only(openai_stub: OpenAIStub) -> None:
    def reply(request: RecordedRequest) -> Reply:
        if STATEMENTS in request.prompt and "rye" in sample_input(request)["answer"]:
            return Reply(content="Sure! Here are the statements: rye, sugar")  # no JSON
        return judge(request)

    openai_stub.default = reply
    report = judge_answers(
        [TIDES, BREAD], judge_config(openai_stub), metrics=["faithfulness", "llm_context_precision"]
    )
    assert report.per_sample[0]["faithfulness"] == pytest.approx(0.5)
    assert report.per_sample[1]["faithfulness"] is None
    error = report.errors[1]["faithfulness"]
    assert "did not parse as the JSON ragas asked for (after 3 attempts)" in error
    assert report.errors[0] == {} and "llm_context_precision" not in report.errors[1]
    assert report.per_sample[1]["llm_context_precision"] == pytest.approx(0.5)
    assert report.failed_counts == {"faithfulness": 1, "llm_context_precision": 0}
    assert report.means["faithfulness"] == pytest.approx(0.5) and report.counts["faithfulness"] == 1
    assert report.failed == 1
    # instructor re-asked twice, showing the judge its error
    bad = [r for r in openai_stub.requests_containing(STATEMENTS) if "rye" in r.prompt]
    assert len(bad) == 3 and bad[-1].messages[-2]["role"] == "assistant"


def test_a_timeout_fails_that_sample_only(openai_stub: OpenAIStub) -> None:
    def reply(request: RecordedRequest) -> Reply:
        if NLI in request.prompt and "dough" in sample_input(request)["context"]:
            return Reply(delay=10, content="{}")
        return judge(request)

    openai_stub.default = reply
    started = time.monotonic()
    report = judge_answers(
        [TIDES, BREAD],
        judge_config(openai_stub, timeout_seconds=0.5, max_retries=1),
        metrics=["faithfulness"],
    )
    assert time.monotonic() - started < 8
    assert report.per_sample == [{"faithfulness": pytest.approx(0.5)}, {"faithfulness": None}]
    error = report.errors[1]["faithfulness"]
    assert (
        "did not answer within 0.5 s (after 1 retry)" in error and "judge.timeout_seconds" in error
    )
    assert report.failed_counts == {"faithfulness": 1}
    # transport retries come from the openai client only: 1 try + 1 retry, no re-asks on top
    slow = [r for r in openai_stub.requests_containing(NLI) if "dough" in r.prompt]
    assert len(slow) == 2


def test_http_errors_and_undefined_scores_are_failures_never_numbers(
    openai_stub: OpenAIStub,
) -> None:
    def reply(request: RecordedRequest) -> Reply:
        if STATEMENTS in request.prompt and "rye" in sample_input(request)["answer"]:
            return Reply(json={"statements": []})  # nothing to judge: faithfulness undefined
        if RELEVANCE in request.prompt and "Moon" in sample_input(request)["response"]:
            return Reply(status=500, content="judge crashed")
        return judge(request)

    openai_stub.default = reply
    report = judge_answers(
        [TIDES, BREAD],
        judge_config(openai_stub),
        metrics=["faithfulness", "answer_relevancy"],
        embeddings=toy_embed,
    )
    assert report.per_sample[1]["faithfulness"] is None
    assert "extracted no statements" in report.errors[1]["faithfulness"]
    assert report.per_sample[0]["answer_relevancy"] is None
    assert "HTTP 500" in report.errors[0]["answer_relevancy"]
    assert "judge crashed" in report.errors[0]["answer_relevancy"]
    assert report.per_sample[0]["faithfulness"] == pytest.approx(0.5)
    assert report.per_sample[1]["answer_relevancy"] == 0.0
    assert report.failed_counts == {"faithfulness": 1, "answer_relevancy": 1}


def test_every_sample_failing_is_reported_not_averaged(openai_stub: OpenAIStub) -> None:
    openai_stub.default = Reply(status=400, content="no such model")
    report = judge_answers([TIDES, BREAD], judge_config(openai_stub), metrics=["faithfulness"])
    assert report.means == {} and report.failed_counts == {"faithfulness": 2}
    assert report.skipped == {"faithfulness": "every sample failed (see the samples' errors)"}
    assert all("HTTP 400" in e["faithfulness"] for e in report.errors)


def test_unreachable_judge_fails_samples_with_the_fix() -> None:
    config = LLMConfig(base_url="http://127.0.0.1:9/v1", model="judge", max_retries=0)
    report = judge_answers([TIDES], config, metrics=["faithfulness"])
    assert report.per_sample == [{"faithfulness": None}]
    assert report.errors[0]["faithfulness"].startswith("cannot reach http://127.0.0.1:9/v1")
    assert "judge.base_url" in report.errors[0]["faithfulness"]


def test_context_precision_needs_a_reference_answer(openai_stub: OpenAIStub) -> None:
    openai_stub.default = judge
    no_reference = JudgeInput(TIDES.question, TIDES.answer, TIDES.contexts)
    report = judge_answers(
        [no_reference], judge_config(openai_stub), metrics=["llm_context_precision"]
    )
    assert report.per_sample == [{"llm_context_precision": None}] and report.errors == [{}]
    assert report.skipped == {"llm_context_precision": NO_REFERENCE_REASON}
    assert report.failed_counts == {"llm_context_precision": 0}
    assert openai_stub.chat_requests() == []


def test_no_judge_skips_every_metric_and_sends_nothing(openai_stub: OpenAIStub) -> None:
    report = judge_answers([TIDES, BREAD], None)
    assert report.skipped == dict.fromkeys(report.metrics, NO_JUDGE_REASON)
    assert report.means == {} and report.per_sample == [dict.fromkeys(report.metrics)] * 2
    assert report.usage.requests == 0 and openai_stub.requests == []


def test_concurrency_limit_holds_for_the_judge(openai_stub: OpenAIStub) -> None:
    def slow(request: RecordedRequest) -> Reply:
        reply = judge(request)
        reply.delay = 0.05
        return reply

    openai_stub.default = slow
    samples = [TIDES, BREAD] * 3
    report = judge_answers(
        samples, judge_config(openai_stub, concurrency=2), metrics=["faithfulness"]
    )
    assert report.counts == {"faithfulness": 6}
    assert openai_stub.max_in_flight == 2


def test_unknown_metric_is_refused() -> None:
    with pytest.raises(EvalError, match="unknown judge metric.*'faithfulnes'"):
        judge_answers([TIDES], None, metrics=["faithfulnes"])
