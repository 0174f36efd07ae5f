"""The LLM client and answer generation, against a real OpenAI-protocol server on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import ragops
from ragops.config import LLMConfig
from ragops.environments import promote
from ragops.errors import ConfigError, LLMError, RagopsError
from ragops.llm.answers import ask, ask_many, render_prompt
from ragops.llm.client import LLMClient
from ragops.project import Project
from tests import openai_stub as stub_module
from tests.conftest import write_project
from tests.openai_stub import OpenAIStub, Reply

openai_stub = stub_module.openai_stub  # the fixture: a started stub, stopped afterwards

TEMPLATE = "Use these passages:\n{context}\n\nQ: {question}\nA:"


def _config(stub: OpenAIStub, **overrides: object) -> LLMConfig:
    settings: dict[str, object] = {"base_url": stub.base_url, "model": "gen-model"}
    settings.update(overrides)
    return LLMConfig.model_validate(settings)


# -- the client ---------------------------------------------------------------------------------


def test_chat_sends_the_request_and_meters_usage(openai_stub: OpenAIStub) -> None:
    openai_stub.script(Reply(content="hello there", prompt_tokens=1000, completion_tokens=500))
    config = _config(
        openai_stub,
        temperature=0.2,
        max_tokens=64,
        price_per_1k_input_tokens=0.5,
        price_per_1k_output_tokens=2.0,
    )
    with LLMClient(config) as client:
        completion = client.chat([{"role": "user", "content": "say hello"}])
        usage = client.usage()
    assert completion.text == "hello there"
    assert (completion.prompt_tokens, completion.completion_tokens) == (1000, 500)
    assert completion.model == "gen-model" and completion.latency_seconds > 0
    (request,) = openai_stub.chat_requests()
    assert request.body["model"] == "gen-model"
    assert request.body["messages"] == [{"role": "user", "content": "say hello"}]
    assert request.body["temperature"] == 0.2 and request.body["max_tokens"] == 64
    assert request.headers["authorization"] == "Bearer not-needed"
    assert (usage.requests, usage.prompt_tokens, usage.completion_tokens) == (1, 1000, 500)
    assert usage.cost == pytest.approx(0.5 + 1.0)


def test_api_key_comes_from_the_named_variable(
    openai_stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGOPS_TEST_LLM_KEY", "sk-test-123")
    with LLMClient(_config(openai_stub, api_key_env="RAGOPS_TEST_LLM_KEY")) as client:
        client.chat("hi")
    assert openai_stub.chat_requests()[0].headers["authorization"] == "Bearer sk-test-123"
    monkeypatch.delenv("RAGOPS_TEST_LLM_KEY")
    with pytest.raises(ConfigError, match="RAGOPS_TEST_LLM_KEY"):
        LLMClient(_config(openai_stub, api_key_env="RAGOPS_TEST_LLM_KEY"))


def test_a_server_error_is_retried_then_succeeds(openai_stub: OpenAIStub) -> None:
    openai_stub.script(
        Reply(status=500, headers={"retry-after-ms": "10"}),
        Reply(status=503, headers={"retry-after-ms": "10"}),
        "third time lucky",
    )
    with LLMClient(_config(openai_stub, max_retries=3)) as client:
        assert client.chat("hi").text == "third time lucky"
        assert client.usage().requests == 1  # the failed attempts reported no usage
    requests = openai_stub.chat_requests()
    assert len(requests) == 3
    assert all(r.body["messages"][0]["content"] == "hi" for r in requests)


def test_retries_give_up_with_a_clear_error(openai_stub: OpenAIStub) -> None:
    openai_stub.default = Reply(
        status=500, content="model crashed", headers={"retry-after-ms": "1"}
    )
    with LLMClient(_config(openai_stub, max_retries=2)) as client, pytest.raises(LLMError) as info:
        client.chat("hi")
    assert info.value.kind == "http" and info.value.status == 500
    assert "HTTP 500" in str(info.value) and "model crashed" in str(info.value)
    assert "after 2 retries" in str(info.value)
    assert len(openai_stub.chat_requests()) == 3
    assert isinstance(info.value, RagopsError)


def test_timeout_is_a_clear_llm_error(openai_stub: OpenAIStub) -> None:
    openai_stub.default = Reply(content="too late", delay=5)
    config = _config(openai_stub, timeout_seconds=0.3, max_retries=1)
    started = time.monotonic()
    with LLMClient(config, role="llm") as client, pytest.raises(LLMError) as info:
        client.chat("hi")
    assert time.monotonic() - started < 4
    assert info.value.kind == "timeout"
    message = str(info.value)
    assert openai_stub.base_url in message and "0.3 s" in message
    assert "llm.timeout_seconds" in message  # the fix names the key
    assert len(openai_stub.chat_requests()) == 2  # tried, then retried once


def test_unreachable_server_names_the_url_and_the_fix() -> None:
    config = LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", max_retries=0)
    with LLMClient(config, role="judge") as client, pytest.raises(LLMError) as info:
        client.chat("hi")
    assert info.value.kind == "connection"
    assert str(info.value).startswith("cannot reach http://127.0.0.1:9/v1: connection refused")
    assert "judge.base_url" in str(info.value)


@pytest.mark.parametrize(
    ("reply", "kind", "text"),
    [
        (Reply(body="this is not json"), "malformed", "not a valid chat completion"),
        (Reply(body='{"id": "x", "choices": []}'), "malformed", "without a message"),
        (Reply(status=404, content="model 'gen-model' not found"), "not_found", "llm.model"),
        (Reply(status=401, content="bad key"), "auth", "api_key_env"),
    ],
)
def test_bad_replies_are_llm_errors(
    openai_stub: OpenAIStub, reply: Reply, kind: str, text: str
) -> None:
    openai_stub.script(reply)
    with LLMClient(_config(openai_stub, max_retries=0)) as client, pytest.raises(LLMError) as info:
        client.chat("hi")
    assert info.value.kind == kind and text in str(info.value)


def test_chat_many_keeps_order_isolates_failures_and_respects_concurrency(
    openai_stub: OpenAIStub,
) -> None:
    openai_stub.route("question 3", Reply(status=400, content="bad request"))
    openai_stub.default = lambda request: Reply(
        content="answer to " + request.user_prompt, delay=0.2
    )
    with LLMClient(_config(openai_stub, concurrency=2, max_retries=0)) as client:
        started = time.monotonic()
        results = client.chat_many([f"question {i}" for i in range(6)])
        elapsed = time.monotonic() - started
    assert [r.text for r in results if not isinstance(r, LLMError)] == [
        f"answer to question {i}" for i in (0, 1, 2, 4, 5)
    ]
    assert isinstance(results[3], LLMError) and results[3].status == 400
    assert openai_stub.max_in_flight == 2
    assert elapsed >= 0.5  # five delayed replies, two at a time


# -- prompts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakePromptVersion:
    """What ragops.prompts.PromptVersion offers (render, name, sha256, short_id)."""

    name: str
    template: str
    sha256: str = "ab" * 32

    @property
    def short_id(self) -> str:
        return self.sha256[:12]

    def render(self, **values: str) -> str:
        return self.template.format(**values)


def test_render_prompt_checks_placeholders() -> None:
    rendered = render_prompt(TEMPLATE, context="[1] a\nA", question="q?")
    assert rendered.text == "Use these passages:\n[1] a\nA\n\nQ: q?\nA:"
    assert (rendered.name, rendered.sha256, rendered.short_id) == (None, None, None)
    with pytest.raises(ConfigError, match=r"no \{context\}"):
        render_prompt("Q: {question}", context="c", question="q")
    with pytest.raises(ConfigError, match=r"\{language\}"):
        render_prompt("{context} {question} in {language}", context="c", question="q")
    assert render_prompt('{{"json": 1}} {context} {question}', context="c", question="q").text == (
        '{"json": 1} c q'
    )
    version = render_prompt(
        FakePromptVersion("qa", "C={context} Q={question}"), context="c", question="q"
    )
    assert version.text == "C=c Q=q" and version.short_id == "ab" * 6


# -- ask ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as server:
        yield server


@pytest.fixture(scope="module")
def project_path(stub: OpenAIStub, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test project, version 1 built and promoted, with `llm:` pointing at the stub."""
    path = write_project(tmp_path_factory.mktemp("gen") / "project")
    with Project.open(path) as project:
        ragops.sync(project)
        promote(project, "docs", 1, force=True, reason="test")
    with path.open("a", encoding="utf-8") as config:
        config.write(
            "llm:\n"
            f"  base_url: {stub.base_url}\n"
            "  model: gen-model\n"
            "  max_retries: 0\n"
            "  price_per_1k_input_tokens: 1.0\n"
            "  price_per_1k_output_tokens: 3.0\n"
        )
    return path


@pytest.fixture
def project(project_path: Path, stub: OpenAIStub) -> Iterator[Project]:
    stub.reset()
    stub.default = "stub answer"
    with Project.open(project_path) as opened:
        yield opened


def test_ask_sends_the_rendered_prompt_with_the_retrieved_contexts(
    project: Project, stub: OpenAIStub
) -> None:
    stub.script(
        Reply(content="Run `ragops rollback docs` [1].", prompt_tokens=200, completion_tokens=20)
    )
    question = "How do I return production to the previous version?"
    answer = ask(project, "docs", question, k=2, prompt=TEMPLATE)

    (request,) = stub.chat_requests()
    sent = request.body["messages"]
    assert sent == [{"role": "user", "content": answer.prompt}]
    first, second = answer.contexts
    assert answer.prompt == (
        f"Use these passages:\n[1] rollback.md\n{first.text.strip()}\n\n"
        f"[2] {second.doc_id}\n{second.text.strip()}\n\nQ: {question}\nA:"
    )
    assert sent[0]["content"].startswith("Use these passages:\n[1] rollback.md\n")
    assert "Use ragops rollback INDEX to return production" in sent[0]["content"]
    assert f"Q: {question}\nA:" in sent[0]["content"]
    assert "[2] " in sent[0]["content"] and "[3] " not in sent[0]["content"]

    assert answer.answer == "Run `ragops rollback docs` [1]."
    assert [h.doc_id for h in answer.contexts][0] == "rollback.md" and len(answer.contexts) == 2
    assert answer.index == "docs" and answer.index_version == 1 and answer.env == "production"
    assert (answer.prompt_name, answer.prompt_sha256, answer.prompt_id) == (None, None, None)
    assert (answer.prompt_tokens, answer.completion_tokens) == (200, 20)
    assert answer.cost == pytest.approx(0.2 + 0.06)
    assert answer.retrieval_seconds > 0 and answer.generation_seconds > 0
    assert answer.model == "gen-model"
    data = answer.to_dict()
    assert data["contexts"][0]["doc_id"] == "rollback.md" and "text" not in data["prompt"]
    assert data["usage"]["total_tokens"] == 220


def test_ask_with_a_prompt_version_records_its_id(project: Project, stub: OpenAIStub) -> None:
    version = FakePromptVersion("support-qa", "SYSTEM: cite sources.\n{context}\n---\n{question}")
    answer = ask(project, "docs", "What causes the tides?", k=1, prompt=version, version=1)
    (request,) = stub.chat_requests()
    [hit] = answer.contexts
    assert hit.doc_id == "astronomy.md"
    assert request.body["messages"][0]["content"] == (
        f"SYSTEM: cite sources.\n[1] astronomy.md\n{hit.text.strip()}\n---\nWhat causes the tides?"
    )
    assert "Tides are mostly caused by the Moon" in request.body["messages"][0]["content"]
    assert answer.prompt_name == "support-qa" and answer.prompt_sha256 == "ab" * 32
    assert answer.prompt_id == "ab" * 6
    assert answer.index_version == 1 and answer.env is None  # pinned, not an environment


def test_ask_default_prompt(project: Project, stub: OpenAIStub) -> None:
    answer = ask(project, "docs", "How long should bread dough rise?", k=3)
    content = stub.chat_requests()[0].body["messages"][0]["content"]
    assert "[1] bread.html\n" in content and "Knead for ten minutes" in content
    assert content.endswith("Question: How long should bread dough rise?\nAnswer:")
    assert answer.answer == "stub answer" and answer.prompt_id is None


def test_ask_reports_the_endpoint_failure(project: Project, stub: OpenAIStub) -> None:
    stub.script(Reply(status=500, content="out of memory"))
    with pytest.raises(LLMError, match="HTTP 500.*out of memory"):
        ask(project, "docs", "What causes the tides?")


def test_ask_many_generates_concurrently_and_isolates_failures(
    project: Project, stub: OpenAIStub
) -> None:
    stub.route("tomato", Reply(status=400, content="refused"))
    stub.default = lambda request: Reply(content="ok", prompt_tokens=10, completion_tokens=2)
    questions = [
        "What causes the tides?",
        "How much sun do tomato plants need?",
        "How do I roll back?",
    ]
    answers = ask_many(project, "docs", questions, k=2, prompt=TEMPLATE)
    assert [a.question for a in answers] == questions
    assert [a.answer for a in answers] == ["ok", "", "ok"]
    assert answers[1].error and "HTTP 400" in answers[1].error and answers[1].cost == 0
    assert answers[0].contexts[0].doc_id == "astronomy.md" and answers[0].error is None
    assert {r.body["messages"][0]["content"] for r in stub.chat_requests()} == {
        a.prompt for a in answers
    }


def test_ask_without_llm_config_names_the_key(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p")
    with Project.open(path) as project, pytest.raises(ConfigError, match="add an `llm:` block"):
        ask(project, "docs", "anything")
