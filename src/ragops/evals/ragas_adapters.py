"""The adapters that let ragas 0.4.3 judge through ragops: its LLM class routed through an
:class:`~ragops.llm.client.LLMClient` (metered, concurrency-bounded, parse retries that do not
multiply transport retries), and its embeddings backed by ragops' own embedder. ragas is
imported once, lazily, with telemetry off."""

from __future__ import annotations

import asyncio
import importlib
import threading
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ragops.errors import EvalError
from ragops.llm.client import LLMClient

if TYPE_CHECKING:  # pragma: no cover
    from ragops.vectors import Embedder

__all__ = ["EmbedFn", "embedding_class", "embeddings_adapter", "judge_llm_class", "load_ragas"]

#: A function from texts to their vectors (one row per text).
EmbedFn = Callable[[list[str]], Any]

_ragas_lock = threading.Lock()
_ragas: dict[str, Any] | None = None


def load_ragas() -> dict[str, Any]:
    """Import ragas once (telemetry off, tiktoken offline first) and return what we use."""
    global _ragas
    with _ragas_lock:
        if _ragas is not None:
            return _ragas
        from ragops.evals.ragas_metrics import configure_ragas_env

        configure_ragas_env()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import ragas._analytics as analytics
                from ragas.embeddings.base import BaseRagasEmbedding
                from ragas.llms import llm_factory
                from ragas.llms.base import InstructorBaseRagasLLM
                from ragas.metrics.collections import (
                    AnswerRelevancy,
                    ContextPrecisionWithReference,
                    Faithfulness,
                )

                analytics.do_not_track.cache_clear()  # forget a value read before our env
                retry_exception = _instructor_retry_exception()
        except ImportError as exc:
            raise EvalError(
                f"cannot import ragas ({exc}): ragops needs ragas==0.4.3 (with instructor and "
                "langchain-community<0.4); reinstall ragops' dependencies"
            ) from exc
        _ragas = {
            "InstructorRetryException": retry_exception,
            "llm_factory": llm_factory,
            "InstructorBaseRagasLLM": InstructorBaseRagasLLM,
            "BaseRagasEmbedding": BaseRagasEmbedding,
            "Faithfulness": Faithfulness,
            "AnswerRelevancy": AnswerRelevancy,
            "ContextPrecisionWithReference": ContextPrecisionWithReference,
        }
        judge_llm_class(_ragas)
        embedding_class(_ragas)
        return _ragas


def _instructor_retry_exception() -> type[Exception]:
    """instructor's "the reply did not validate" exception (it moved between versions)."""
    for module in ("instructor.exceptions", "instructor.retry"):  # new, then 1.3.x
        try:
            found = getattr(importlib.import_module(module), "InstructorRetryException", None)
        except ImportError:
            continue
        if isinstance(found, type):
            return found
    raise ImportError("instructor has no InstructorRetryException")


def judge_llm_class(ragas: dict[str, Any]) -> type:
    """A ragas ``InstructorBaseRagasLLM`` that routes through an :class:`LLMClient`.

    The structured-output request itself is ragas' own (``llm_factory`` patches the
    client with instructor in JSON mode and maps the model arguments); this class adds the
    concurrency slot, per-call parse retries that do not multiply transport retries, and
    (through the client) usage metering.
    """
    if "_JudgeLLM" in ragas:
        return ragas["_JudgeLLM"]  # type: ignore[no-any-return]
    base = ragas["InstructorBaseRagasLLM"]

    class JudgeLLM(base):  # type: ignore[misc, valid-type]
        def __init__(self, client: LLMClient, parse_attempts: int) -> None:
            self.client = client
            self.parse_attempts = parse_attempts
            model_args: dict[str, Any] = {"temperature": client.config.temperature}
            if client.config.max_tokens is not None:
                model_args["max_tokens"] = client.config.max_tokens
            self.inner = ragas["llm_factory"](
                client.config.model, client=client.async_client(), **model_args
            )

        def generate(self, prompt: str, response_model: Any) -> Any:
            raise TypeError("the ragops judge is async only; ragas calls agenerate()")

        async def agenerate(self, prompt: str, response_model: Any) -> Any:
            from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

            inner = self.inner
            messages = []
            if getattr(inner, "system_prompt", None):
                messages.append({"role": "system", "content": inner.system_prompt})
            messages.append({"role": "user", "content": prompt})
            mapper = getattr(inner, "_map_provider_params", None)
            params = mapper() if callable(mapper) else dict(inner.model_args)
            # Re-ask only replies that do not parse; the openai client already retried
            # timeouts and server errors (instructor would otherwise retry those again).
            retrying = AsyncRetrying(
                stop=stop_after_attempt(self.parse_attempts),
                retry=retry_if_exception_type(ragas["InstructorRetryException"]),
                reraise=True,
            )
            async with self.client.slot():
                return await inner.client.chat.completions.create(
                    model=inner.model,
                    messages=messages,
                    response_model=response_model,
                    max_retries=retrying,
                    **params,
                )

    ragas["_JudgeLLM"] = JudgeLLM
    return JudgeLLM


def embedding_class(ragas: dict[str, Any]) -> type:
    """A ragas ``BaseRagasEmbedding`` over a ragops embedder or a texts→vectors function."""
    if "_Embeddings" in ragas:
        return ragas["_Embeddings"]  # type: ignore[no-any-return]
    base = ragas["BaseRagasEmbedding"]

    class Embeddings(base):  # type: ignore[misc, valid-type]
        def __init__(self, embed: EmbedFn) -> None:
            super().__init__()
            self._embed = embed
            self._lock = threading.Lock()

        def _vectors(self, texts: list[str]) -> list[list[float]]:
            with self._lock:  # one model, one caller at a time
                vectors = self._embed(list(texts))
            return [[float(x) for x in vector] for vector in vectors]

        def embed_text(self, text: str, **_kwargs: Any) -> list[float]:
            return self._vectors([text])[0]

        async def aembed_text(self, text: str, **_kwargs: Any) -> list[float]:
            return (await asyncio.to_thread(self._vectors, [text]))[0]

        def embed_texts(self, texts: list[str], **_kwargs: Any) -> list[list[float]]:
            return self._vectors(texts)

        async def aembed_texts(self, texts: list[str], **_kwargs: Any) -> list[list[float]]:
            return await asyncio.to_thread(self._vectors, list(texts))

    ragas["_Embeddings"] = Embeddings
    return Embeddings


def embeddings_adapter(ragas: dict[str, Any], embeddings: Embedder | EmbedFn | None) -> Any:
    if embeddings is None:
        from ragops.config import EmbeddingConfig
        from ragops.vectors import Embedder

        embeddings = Embedder(EmbeddingConfig())
    embed = getattr(embeddings, "embed_queries", None)
    if embed is None:
        if not callable(embeddings):
            raise EvalError(
                f"embeddings must be a ragops Embedder or a function from texts to vectors, "
                f"not {type(embeddings).__name__}"
            )
        embed = embeddings
    return embedding_class(ragas)(embed)
