"""Evals with generated answers: the index's prompt version, the generator and the judge, all
through a real OpenAI-protocol server on loopback."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import ragops
from ragops.cli import app
from ragops.environments import promote
from ragops.evals.evaluate import evaluate_index
from ragops.evals.results import read_results
from ragops.llm.prompts import PromptRegistry, index_prompt
from ragops.project import Project
from tests import openai_stub as stub_module
from tests.conftest import EVALS, write_project
from tests.evals.test_judge import judge
from tests.openai_stub import OpenAIStub, Reply

openai_stub = stub_module.openai_stub

TEMPLATE = "Use only this context to answer.\n\n{context}\n\nQuestion: {question}\nAnswer:"


def _project(tmp_path: Path, stub: OpenAIStub, *, with_judge: bool) -> Path:
    path = write_project(tmp_path / "p", extra_index="    prompt: answer\n")
    (path.parent / "prompts").mkdir()
    (path.parent / "prompts" / "answer.txt").write_text(TEMPLATE)
    llm = f"llm:\n  base_url: {stub.base_url}\n  model: gen-model\n  max_retries: 0\n"
    judge_block = (
        f"judge:\n  base_url: {stub.base_url}\n  model: judge-model\n  max_retries: 0\n"
        "  price_per_1k_input_tokens: 1.0\n"
        if with_judge
        else ""
    )
    path.write_text(path.read_text() + llm + judge_block)
    return path


def test_eval_generates_with_the_prompt_version_and_the_judge_scores_it(
    tmp_path: Path, openai_stub: OpenAIStub
) -> None:
    openai_stub.route(
        "Use only this context", Reply(content="The Moon causes the tides. It is big.")
    )
    openai_stub.default = judge  # every other request is a ragas judge prompt
    path = _project(tmp_path, openai_stub, with_judge=True)
    with Project.open(path) as project:
        ragops.sync(project)
        [run] = evaluate_index(project, "docs")
        production = PromptRegistry.for_project(project).get("answer", "production")

        generation = openai_stub.requests_containing("Use only this context")
        assert len(generation) == 4, "one generation per eval question"
        asked = {q["question"] for q in EVALS}
        assert {next(q for q in asked if q in r.prompt) for r in generation} == asked, (
            "each eval question reaches the generator once"
        )
        assert "[1] " in generation[0].prompt, "the retrieved chunks reach the generator"
        metrics = run.report.metrics
        # the scripted judge supports both statements of an answer whenever its context holds
        # the Moon passage, which k=5 retrieves for every question of this four-document index
        assert metrics["faithfulness"] == 1.0 and "answer_relevancy" in metrics
        assert run.report.skipped["llm_context_precision"] == "no sample has a reference_answer"
        assert "faithfulness" not in run.report.skipped

        [row] = [r.to_dict() for r in project.catalog.evals.of_version("docs", 1)]
        assert row["prompt_sha256"] == production.sha256 and row["judge"] == "judge-model"
        assert row["usage"]["generation"]["prompt_tokens"] > 0
        assert row["usage"]["judge"]["cost"] > 0
        [first, *_] = read_results(row["results_path"])
        assert first["answer"] == "The Moon causes the tides. It is big."
        assert first["prompt_sha256"] == production.sha256

        # a new prompt version is evaluated separately and recorded with its own hash
        (path.parent / "prompts" / "answer.txt").write_text(TEMPLATE + " Be brief.")
        [again] = evaluate_index(project, "docs", prompt=index_prompt(project, "docs", "latest"))
        assert again.prompt is not None and again.prompt.sha256 != production.sha256
        assert [r.prompt_sha256 for r in project.catalog.evals.of_version("docs", 1)] == [
            production.sha256,
            again.prompt.sha256,
        ]


def test_without_a_judge_llm_metrics_are_skipped_with_the_reason(
    tmp_path: Path, openai_stub: OpenAIStub
) -> None:
    path = _project(tmp_path, openai_stub, with_judge=False)
    with Project.open(path) as project:
        ragops.sync(project)
        [run] = evaluate_index(project, "docs")
    for metric in ("faithfulness", "answer_relevancy", "llm_context_precision"):
        assert run.report.skipped[metric] == "no judge LLM configured"
        assert metric not in run.report.metrics
    assert not openai_stub.chat_requests(), "no judge: no generation either, nothing is sent"


def test_ragops_ask_answers_with_the_production_prompt(
    tmp_path: Path, openai_stub: OpenAIStub
) -> None:
    openai_stub.route("Use only this context", Reply(content="Six hours of sun a day."))
    path = _project(tmp_path, openai_stub, with_judge=False)
    with Project.open(path) as project:
        ragops.sync(project)
        promote(project, "docs", 1, force=True, reason="test")
    result = CliRunner().invoke(
        app, ["--config", str(path), "ask", "docs", "How much sun do tomatoes need?", "--json"]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["answer"] == "Six hours of sun a day."
    assert answer["index_version"] == 1 and answer["prompt"]["name"] == "answer"
    assert answer["contexts"][0]["doc_id"] == "gardening.md"
    assert answer["usage"]["total_tokens"] > 0
