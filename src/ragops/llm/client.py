"""A client for one OpenAI-compatible chat endpoint (``llm:`` or ``judge:`` in ragops.yaml).

Works with any server that speaks the OpenAI chat-completions protocol: OpenAI, vLLM, Ollama,
llama.cpp server, LiteLLM proxy, … ::

    client = LLMClient(project.config.llm)
    completion = client.chat("What is ragops?")          # or a list of messages
    print(completion.text, completion.prompt_tokens, client.usage().cost)

Behaviour:

- **Retries.** Timeouts, connection errors, HTTP 408/409/429 and 5xx are retried
  ``max_retries`` times by the ``openai`` client, with exponential backoff (0.5 s doubling up
  to 8 s, with jitter) that honours the server's ``Retry-After``.
- **Timeout.** ``timeout_seconds`` bounds each attempt (connect, each read, each write).
- **Concurrency.** At most ``concurrency`` requests are in flight per event loop
  (:meth:`achat`, :meth:`achat_many`, :meth:`chat_many`, and anything holding :meth:`slot`).
- **Usage.** Every reply that reports ``usage`` (including replies that later fail to parse)
  is added to a thread-safe meter; cost uses ``price_per_1k_input_tokens`` /
  ``price_per_1k_output_tokens``. :meth:`usage` reads it.
- **Errors.** Every failure is an :class:`LLMError` saying what failed, at which URL, and
  the fix (``cannot reach http://127.0.0.1:9/v1: connection refused; start the server …``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ragops.config import LLMConfig
from ragops.errors import LLMError
from ragops.llm.errors import translate_error

if TYPE_CHECKING:  # pragma: no cover
    import httpx
    from openai import AsyncOpenAI, OpenAI

__all__ = ["Completion", "LLMClient", "LLMError", "Messages", "Usage", "UsageMeter"]

#: A prompt: a plain string (sent as one user message) or OpenAI chat messages.
Messages = str | Sequence[dict[str, Any]]

T = TypeVar("T")


@dataclass(frozen=True)
class Completion:
    """One chat reply."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_seconds: float
    model: str
    finish_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Usage:
    """Tokens and cost summed over a set of requests."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __sub__(self, other: Usage) -> Usage:
        return Usage(
            self.requests - other.requests,
            self.prompt_tokens - other.prompt_tokens,
            self.completion_tokens - other.completion_tokens,
            self.cost - other.cost,
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_tokens": self.total_tokens}


class UsageMeter:
    """A thread-safe running total of tokens and cost, priced per 1,000 tokens."""

    def __init__(self, price_in_per_1k: float = 0.0, price_out_per_1k: float = 0.0) -> None:
        self.price_in_per_1k = price_in_per_1k
        self.price_out_per_1k = price_out_per_1k
        self._lock = threading.Lock()
        self._requests = 0
        self._prompt = 0
        self._completion = 0

    def cost_of(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.price_in_per_1k + completion_tokens * self.price_out_per_1k
        ) / 1000.0

    def record(self, prompt_tokens: int, completion_tokens: int) -> None:
        with self._lock:
            self._requests += 1
            self._prompt += int(prompt_tokens)
            self._completion += int(completion_tokens)

    def snapshot(self) -> Usage:
        with self._lock:
            return Usage(
                self._requests,
                self._prompt,
                self._completion,
                self.cost_of(self._prompt, self._completion),
            )


class LLMClient:
    """Chat with the endpoint of an :class:`~ragops.config.LLMConfig`.

    ``role`` is the configuration key the endpoint came from (``llm`` or ``judge``); error
    messages name ``<role>.base_url``, ``<role>.timeout_seconds``, … in their fixes.
    """

    def __init__(self, config: LLMConfig, *, role: str = "llm") -> None:
        self.config = config
        self.role = role
        self.meter = UsageMeter(config.price_per_1k_input_tokens, config.price_per_1k_output_tokens)
        self._api_key = config.api_key()  # fails now (ConfigError) when the key's variable is unset
        self._sync: OpenAI | None = None
        self._lock = threading.Lock()
        # One async client and one semaphore per event loop: both bind to the loop they run on.
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )

    # -- clients ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def model(self) -> str:
        return self.config.model

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "base_url": self.config.base_url,
            "api_key": self._api_key,
            "timeout": self.config.timeout_seconds,
            "max_retries": self.config.max_retries,
        }

    @property
    def sync_client(self) -> OpenAI:
        """The ``openai.OpenAI`` client (usage of every reply is metered)."""
        with self._lock:
            if self._sync is None:
                from openai import DefaultHttpxClient, OpenAI

                http = DefaultHttpxClient(event_hooks={"response": [self._meter_sync]})
                self._sync = OpenAI(**self._client_kwargs(), http_client=http)
            return self._sync

    def async_client(self) -> AsyncOpenAI:
        """The ``openai.AsyncOpenAI`` client of the running event loop (metered too)."""
        return self._loop_state().client

    def _loop_state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        with self._lock:
            state = self._per_loop.get(loop)
            if state is None:
                from openai import AsyncOpenAI, DefaultAsyncHttpxClient

                http = DefaultAsyncHttpxClient(event_hooks={"response": [self._meter_async]})
                state = _LoopState(
                    client=AsyncOpenAI(**self._client_kwargs(), http_client=http),
                    semaphore=asyncio.Semaphore(self.config.concurrency),
                )
                self._per_loop[loop] = state
            return state

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the ``concurrency`` request slots of the running event loop."""
        async with self._loop_state().semaphore:
            yield

    async def aclose(self) -> None:
        """Close the running loop's async client (call before that loop ends)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            state = self._per_loop.pop(loop, None)
        if state is not None:
            await state.client.close()

    def close(self) -> None:
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()

    def __enter__(self) -> LLMClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- usage -----------------------------------------------------------------------------

    def usage(self) -> Usage:
        """Tokens and cost of every reply this client received so far."""
        return self.meter.snapshot()

    def _meter_sync(self, response: httpx.Response) -> None:
        if response.status_code == 200:
            response.read()
            self._record_usage(response.content)

    async def _meter_async(self, response: httpx.Response) -> None:
        if response.status_code == 200:
            await response.aread()
            self._record_usage(response.content)

    def _record_usage(self, content: bytes) -> None:
        try:
            usage = json.loads(content).get("usage")
        except (ValueError, AttributeError):
            return  # not JSON: nothing to count (the caller reports the malformed reply)
        if isinstance(usage, dict):
            self.meter.record(
                _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))
            )

    # -- chat ------------------------------------------------------------------------------

    def _request(self, messages: Messages, overrides: dict[str, Any]) -> dict[str, Any]:
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        request: dict[str, Any] = {
            "model": self.config.model,
            "messages": list(messages),
            "temperature": self.config.temperature,
        }
        if self.config.max_tokens is not None:
            request["max_tokens"] = self.config.max_tokens
        request.update({k: v for k, v in overrides.items() if v is not None})
        return request

    def chat(self, messages: Messages, **overrides: Any) -> Completion:
        """Send one chat request and wait for the reply (retried as described above).

        ``overrides`` are extra request fields (``temperature``, ``max_tokens``,
        ``response_format``, …). Raises :class:`LLMError`.
        """
        request = self._request(messages, overrides)
        with self._span() as span:
            started = time.perf_counter()
            try:
                response = self.sync_client.chat.completions.create(**request)
            except Exception as exc:
                raise self.error(exc) from exc
            completion = self._completion(response, time.perf_counter() - started)
            _annotate(span, completion)
            return completion

    async def achat(self, messages: Messages, **overrides: Any) -> Completion:
        """:meth:`chat` on the running event loop, within the concurrency limit."""
        request = self._request(messages, overrides)
        async with self.slot():
            with self._span() as span:
                started = time.perf_counter()
                try:
                    response = await self.async_client().chat.completions.create(**request)
                except Exception as exc:
                    raise self.error(exc) from exc
                completion = self._completion(response, time.perf_counter() - started)
                _annotate(span, completion)
                return completion

    def _span(self) -> Any:
        """A ``chat {model}`` span (GenAI semantic conventions)."""
        from ragops.tracing import tracer

        return tracer().start_as_current_span(
            f"chat {self.config.model}",
            kind=_client_kind(),
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": self.config.model,
                "server.address": self.config.base_url,
            },
        )

    async def achat_many(
        self, batch: Sequence[Messages], **overrides: Any
    ) -> list[Completion | LLMError]:
        """Many requests at once (at most ``concurrency`` in flight), results in order.

        A request that fails gives its :class:`LLMError` in its place; the others go on.
        """

        async def one(messages: Messages) -> Completion | LLMError:
            try:
                return await self.achat(messages, **overrides)
            except LLMError as exc:
                return exc

        return list(await asyncio.gather(*(one(m) for m in batch)))

    def chat_many(self, batch: Sequence[Messages], **overrides: Any) -> list[Completion | LLMError]:
        """:meth:`achat_many` from synchronous code (on its own event loop)."""
        if not batch:
            return []
        return self.run(lambda: self.achat_many(batch, **overrides))

    def run(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run ``make()`` on a fresh event loop (a worker thread when one is running here),
        closing that loop's async client afterwards."""

        async def main() -> T:
            try:
                return await make()
            finally:
                await self.aclose()

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(main())
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, main()).result()

    def _completion(self, response: Any, latency: float) -> Completion:
        try:
            choice = response.choices[0]
            text = choice.message.content
        except (AttributeError, IndexError, TypeError):
            raise LLMError(
                f"{self.config.base_url} answered without a message (no choices[0].message): "
                f"not an OpenAI chat-completions reply; check that {self.role}.base_url is the "
                "server's OpenAI-compatible API (it usually ends in /v1)",
                kind="malformed",
                url=self.config.base_url,
            ) from None
        if text is None:
            raise LLMError(
                f"model {self.config.model!r} at {self.config.base_url} returned no text "
                f"(finish_reason={getattr(choice, 'finish_reason', None)!r}); check the "
                "model supports chat, or raise max_tokens",
                kind="malformed",
                url=self.config.base_url,
            )
        usage = getattr(response, "usage", None)
        return Completion(
            text=text,
            prompt_tokens=_int(getattr(usage, "prompt_tokens", 0)),
            completion_tokens=_int(getattr(usage, "completion_tokens", 0)),
            latency_seconds=latency,
            model=getattr(response, "model", None) or self.config.model,
            finish_reason=getattr(choice, "finish_reason", None),
        )

    # -- errors ----------------------------------------------------------------------------

    def error(self, exc: BaseException) -> LLMError:
        """Translate an ``openai`` (or other) exception into an :class:`LLMError`."""
        return translate_error(exc, self.config, self.role)


@dataclass
class _LoopState:
    client: AsyncOpenAI
    semaphore: asyncio.Semaphore


def _client_kind() -> Any:
    from opentelemetry.trace import SpanKind

    return SpanKind.CLIENT


def _annotate(span: Any, completion: Completion) -> None:
    span.set_attribute("gen_ai.usage.input_tokens", completion.prompt_tokens)
    span.set_attribute("gen_ai.usage.output_tokens", completion.completion_tokens)
    span.set_attribute("gen_ai.response.model", completion.model)
    if completion.finish_reason:
        span.set_attribute("gen_ai.response.finish_reasons", [completion.finish_reason])


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
