"""Failures of a chat endpoint, worded as what failed, at which URL, and the fix."""

from __future__ import annotations

import json
from typing import Any

from ragops.config import LLMConfig
from ragops.errors import LLMError

__all__ = ["translate_error"]


def translate_error(exc: BaseException, config: LLMConfig, role: str) -> LLMError:
    """An ``openai`` (or other) exception as an :class:`LLMError` naming the URL and the fix
    (``role`` is the config key: ``llm`` or ``judge``)."""
    import openai

    if isinstance(exc, LLMError):
        return exc
    url = config.base_url
    retries = config.max_retries
    tried = f"after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else "no retries"
    if isinstance(exc, openai.APITimeoutError):
        return LLMError(
            f"{url} did not answer within {config.timeout_seconds:g} s ({tried}) "
            f"for model {config.model!r}; raise {role}.timeout_seconds, lower "
            f"{role}.concurrency, or check the server's load",
            kind="timeout",
            url=url,
        )
    if isinstance(exc, openai.APIConnectionError):
        cause = _root_cause(exc)
        return LLMError(
            f"cannot reach {url}: {cause} ({tried}); start your server or fix {role}.base_url",
            kind="connection",
            url=url,
        )
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        detail = _error_detail(exc)
        if status in (401, 403):
            fix = (
                f"set {role}.api_key_env to a variable holding a valid key"
                if not config.api_key_env
                else f"check the key in ${config.api_key_env}"
            )
            return LLMError(
                f"{url} refused the request (HTTP {status}: {detail}); {fix}",
                kind="auth",
                url=url,
                status=status,
            )
        if status == 404:
            return LLMError(
                f"{url} answered HTTP 404 for model {config.model!r} ({detail}); check "
                f"{role}.model names a model the server serves and that {role}.base_url "
                "is its OpenAI-compatible API (usually ending in /v1)",
                kind="not_found",
                url=url,
                status=status,
            )
        if status == 429:
            return LLMError(
                f"{url} is rate-limiting requests (HTTP 429 {tried}: {detail}); lower "
                f"{role}.concurrency or raise {role}.max_retries",
                kind="rate_limit",
                url=url,
                status=status,
            )
        where = "server error" if status >= 500 else "request refused"
        return LLMError(
            f"{url} answered HTTP {status} ({where}{', ' + tried if status >= 500 else ''}): "
            f"{detail}; "
            + (
                "check the server's logs"
                if status >= 500
                else f"check {role}.model and the request settings"
            ),
            kind="http",
            url=url,
            status=status,
        )
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError | ValueError):
        return LLMError(
            f"{url} sent a reply that is not a valid chat completion ({_short(exc)}); check "
            f"that {role}.base_url is an OpenAI-compatible API",
            kind="malformed",
            url=url,
        )
    return LLMError(
        f"request to {url} failed: {type(exc).__name__}: {_short(exc)}", kind="error", url=url
    )


def _short(exc: BaseException, limit: int = 300) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _root_cause(exc: BaseException) -> str:
    seen = exc
    while seen.__cause__ is not None or seen.__context__ is not None:
        seen = seen.__cause__ or seen.__context__  # type: ignore[assignment]
    text = str(seen)
    lowered = text.lower()
    if "connection refused" in lowered or "connect call failed" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "unknown host"
    return _short(seen) if text else type(seen).__name__


def _error_detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if message:
            return _short(Exception(message))
    return _short(exc)
