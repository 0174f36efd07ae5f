"""Answer a question from an index: retrieve, build the prompt, ask the ``llm:`` endpoint. ::

    from ragops.llm.answers import ask

    answer = ask(project, "docs", "How do I roll back?", k=5, prompt=prompt_version)
    print(answer.answer, answer.index_version, answer.prompt_id, answer.cost)

The prompt is a prompt version from the registry (anything with ``render(**values)``,
``name``, ``sha256`` and ``short_id``), a template string with ``{context}`` and
``{question}`` placeholders, or None for :data:`DEFAULT_PROMPT`. This module never looks a
prompt up by name: the caller resolves ``indexes.<name>.prompt`` and passes the result.

The context the prompt receives is the retrieved chunks, numbered in rank order (see
:func:`format_context`), so an answer can cite ``[2]``.
"""

from __future__ import annotations

import string
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ragops.errors import ConfigError, LLMError
from ragops.llm.client import Completion, LLMClient

if TYPE_CHECKING:  # pragma: no cover
    from ragops.hits import Hit
    from ragops.project import Project

__all__ = [
    "DEFAULT_PROMPT",
    "Answer",
    "RenderedPrompt",
    "ask",
    "ask_many",
    "format_context",
    "llm_client",
    "render_prompt",
]

DEFAULT_PROMPT = """\
Answer the question using only the numbered context passages below. Cite the passages you \
use as [1], [2], … If the context does not contain the answer, say that you do not know.

Context:
{context}

Question: {question}
Answer:"""

NO_CONTEXT = "(no passages were retrieved)"


@runtime_checkable
class PromptLike(Protocol):
    """What ragops needs of a registry prompt version (``ragops.llm.prompts.PromptVersion``)."""

    @property
    def name(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def short_id(self) -> str: ...
    def render(self, /, **values: Any) -> str: ...


@dataclass(frozen=True)
class RenderedPrompt:
    """The text sent to the model and where it came from (ids None for a plain template)."""

    text: str
    name: str | None = None
    sha256: str | None = None
    short_id: str | None = None


@dataclass
class Answer:
    """A generated answer with everything needed to trace and cost it.

    ``contexts`` are the retrieved hits in rank order (the ``[n]`` the answer cites);
    ``error`` is set (and ``answer`` empty) when :func:`ask_many` could not generate it.
    """

    question: str
    answer: str
    contexts: list[Hit]
    index: str
    index_version: int
    env: str | None
    model: str
    prompt_name: str | None
    prompt_sha256: str | None
    prompt_id: str | None
    prompt_tokens: int
    completion_tokens: int
    cost: float
    retrieval_seconds: float
    generation_seconds: float
    prompt: str = field(default="", repr=False)
    error: str | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def seconds(self) -> float:
        return self.retrieval_seconds + self.generation_seconds

    @property
    def context_texts(self) -> list[str]:
        return [hit.text for hit in self.contexts]

    def to_dict(self, *, include_prompt: bool = False) -> dict[str, Any]:
        """A JSON-serialisable dict (the rendered prompt only when asked for)."""
        data: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "contexts": [hit.to_dict() for hit in self.contexts],
            "index": self.index,
            "index_version": self.index_version,
            "env": self.env,
            "model": self.model,
            "prompt": {
                "name": self.prompt_name,
                "sha256": self.prompt_sha256,
                "id": self.prompt_id,
            },
            "usage": {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens,
                "cost": self.cost,
            },
            "latency": {
                "retrieval_seconds": self.retrieval_seconds,
                "generation_seconds": self.generation_seconds,
                "total_seconds": self.seconds,
            },
            "error": self.error,
        }
        if include_prompt:
            data["prompt"]["text"] = self.prompt
        return data


# -- building blocks ---------------------------------------------------------------------------


def format_context(hits: Sequence[Hit]) -> str:
    """The retrieved chunks as numbered passages, best first::

    [1] rollback.md
    Use `ragops rollback INDEX` to …

    [2] …
    """
    if not hits:
        return NO_CONTEXT
    return "\n\n".join(
        f"[{n}] {hit.doc_id}\n{hit.text.strip()}" for n, hit in enumerate(hits, start=1)
    )


def render_prompt(
    prompt: PromptLike | str | None, *, context: str, question: str
) -> RenderedPrompt:
    """Fill ``{context}`` and ``{question}`` into a prompt version or a template string."""
    if prompt is None:
        prompt = DEFAULT_PROMPT
    if not isinstance(prompt, str):
        if not callable(getattr(prompt, "render", None)):
            raise TypeError(
                f"prompt must be a prompt version (with render()) or a template string, "
                f"not {type(prompt).__name__}"
            )
        return RenderedPrompt(
            text=prompt.render(context=context, question=question),
            name=getattr(prompt, "name", None),
            sha256=getattr(prompt, "sha256", None),
            short_id=getattr(prompt, "short_id", None),
        )
    fields = _placeholders(prompt)
    unknown = sorted(fields - {"context", "question"})
    if unknown:
        raise ConfigError(
            f"prompt template uses {', '.join('{' + u + '}' for u in unknown)}, but only "
            "{context} and {question} are filled; remove them, or write literal braces as "
            "{{ and }}"
        )
    missing = [name for name in ("context", "question") if name not in fields]
    if missing:
        raise ConfigError(
            f"prompt template has no {' or '.join('{' + m + '}' for m in missing)} "
            "placeholder, so the model would not see "
            + ("the retrieved passages" if "context" in missing else "the question")
            + "; add it to the template"
        )
    return RenderedPrompt(text=prompt.format(context=context, question=question))


def _placeholders(template: str) -> set[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigError(
            f"prompt template is not a valid format string ({exc}); write literal braces "
            "as {{ and }}"
        ) from None
    names = set()
    for _literal, name, _spec, _conv in parsed:
        if name is None:
            continue
        if name == "" or name.isdigit():
            raise ConfigError(
                "prompt template has a positional placeholder {}; name it {context} or "
                "{question}, or write literal braces as {{ and }}"
            )
        names.add(name.split(".")[0].split("[")[0])
    return names


def llm_client(project: Project) -> LLMClient:
    """The client of the project's ``llm:`` endpoint (ConfigError when there is none)."""
    config = project.config.llm
    if config is None:
        raise ConfigError(
            f"no generator configured: add an `llm:` block to {project.root / 'ragops.yaml'}, "
            "e.g.\n  llm:\n    base_url: http://localhost:11434/v1   # Ollama, vLLM, OpenAI, …\n"
            "    model: llama3.1"
        )
    return LLMClient(config, role="llm")


# -- ask ---------------------------------------------------------------------------------------


def ask(
    project: Project,
    index: str,
    question: str,
    *,
    env: str = "production",
    version: int | None = None,
    k: int = 5,
    prompt: PromptLike | str | None = None,
    filters: dict[str, Any] | None = None,
    llm: LLMClient | None = None,
    principals: Sequence[str] | None = None,
    face: str = "library",
    asked_by: str | None = None,
) -> Answer:
    """Retrieve ``k`` chunks of ``index`` for ``question`` and generate an answer from them.

    Reads the version ``env`` points at, or ``version`` when given, on behalf of
    ``principals`` (only the documents their ACLs allow; None: every document). ``llm``
    reuses a client (default: one for ``project.config.llm``, closed afterwards). Raises
    ConfigError (no ``llm:``, bad template), IndexNotFoundError (nothing to read), LLMError
    (the endpoint failed after its retries).
    """
    from ragops.retriever import Retriever

    if not question or not question.strip():
        raise ValueError("question is empty")
    client = llm or llm_client(project)
    try:
        retriever = Retriever(
            project, index, env=env, version=version, principals=principals, log=False
        )
        started = time.perf_counter()
        hits = retriever.search(question, k=k, filters=filters)
        retrieval_seconds = time.perf_counter() - started
        index_version = retriever.last_version
        rendered = render_prompt(prompt, context=format_context(hits), question=question)
        started = time.perf_counter()
        completion = client.chat(rendered.text)
        generation_seconds = time.perf_counter() - started
    finally:
        if llm is None:
            client.close()
    answer = _answer(
        question,
        hits,
        index,
        index_version,
        None if version is not None else env,
        rendered,
        completion,
        client,
        retrieval_seconds,
        generation_seconds,
    )
    _record(project, answer, k, filters, principals, face, asked_by, retriever.last_retrieval)
    return answer


def _record(
    project: Project,
    answer: Answer,
    k: int,
    filters: dict[str, Any] | None,
    principals: Sequence[str] | None,
    face: str,
    asked_by: str | None,
    retrieval: str | None,
) -> None:
    """The ask, in the project's query log (when it keeps one)."""
    log = project.query_log
    if log is None:
        return
    from ragops.queries import QueryRecord, reader_of

    log.record(
        QueryRecord(
            kind="ask",
            index=answer.index,
            query=answer.question,
            k=k,
            env=answer.env,
            version=answer.index_version,
            face=face,
            principal=asked_by or reader_of(principals),
            filters=filters,
            doc_ids=[h.doc_id for h in answer.contexts],
            chunk_ids=[h.chunk_id for h in answer.contexts],
            scores=[h.score for h in answer.contexts],
            search_ms=round(answer.retrieval_seconds * 1000, 3),
            generate_ms=round(answer.generation_seconds * 1000, 3),
            total_ms=round(answer.seconds * 1000, 3),
            input_tokens=answer.prompt_tokens,
            output_tokens=answer.completion_tokens,
            cost=answer.cost,
            prompt_sha256=answer.prompt_sha256,
            retrieval=retrieval,
        )
    )


def ask_many(
    project: Project,
    index: str,
    questions: Sequence[str],
    *,
    env: str = "production",
    version: int | None = None,
    k: int = 5,
    prompt: PromptLike | str | None = None,
    llm: LLMClient | None = None,
    principals: Sequence[str] | None = None,
) -> list[Answer]:
    """:func:`ask` for many questions: one batched search, then concurrent generation.

    At most ``llm.concurrency`` requests are in flight. A question whose generation fails
    gets an :class:`Answer` with ``error`` set and an empty ``answer``; the others go on.
    ``retrieval_seconds`` of each answer is its share of the batched search.
    """
    from ragops.retriever import Retriever

    if not questions:
        return []
    client = llm or llm_client(project)
    try:
        retriever = Retriever(
            project, index, env=env, version=version, principals=principals, log=False
        )
        started = time.perf_counter()
        all_hits = retriever.search_many(list(questions), k=k)
        retrieval_share = (time.perf_counter() - started) / len(questions)
        index_version = retriever.last_version  # every answer's hits come from it
        rendered = [
            render_prompt(prompt, context=format_context(hits), question=question)
            for question, hits in zip(questions, all_hits, strict=True)
        ]
        results = client.chat_many([r.text for r in rendered])
    finally:
        if llm is None:
            client.close()
    answers = []
    for question, hits, prompt_text, result in zip(
        questions, all_hits, rendered, results, strict=True
    ):
        env_name = None if version is not None else env
        if isinstance(result, LLMError):
            answer = _answer(
                question,
                hits,
                index,
                index_version,
                env_name,
                prompt_text,
                None,
                client,
                retrieval_share,
                0.0,
            )
            answer.error = str(result)
        else:
            answer = _answer(
                question,
                hits,
                index,
                index_version,
                env_name,
                prompt_text,
                result,
                client,
                retrieval_share,
                result.latency_seconds,
            )
        answers.append(answer)
    return answers


def _answer(
    question: str,
    hits: list[Hit],
    index: str,
    index_version: int,
    env: str | None,
    rendered: RenderedPrompt,
    completion: Completion | None,
    client: LLMClient,
    retrieval_seconds: float,
    generation_seconds: float,
) -> Answer:
    prompt_tokens = completion.prompt_tokens if completion else 0
    completion_tokens = completion.completion_tokens if completion else 0
    return Answer(
        question=question,
        answer=completion.text if completion else "",
        contexts=list(hits),
        index=index,
        index_version=index_version,
        env=env,
        model=completion.model if completion else client.model,
        prompt_name=rendered.name,
        prompt_sha256=rendered.sha256,
        prompt_id=rendered.short_id,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost=client.meter.cost_of(prompt_tokens, completion_tokens),
        retrieval_seconds=retrieval_seconds,
        generation_seconds=generation_seconds,
        prompt=rendered.text,
    )
