"""An HTTP client for connectors: timeouts, retries with backoff that honour Retry-After, and a
rate limit per host. The ``web`` connector uses it; so can yours::

    from ragops.sources.http import HttpClient

    with HttpClient(rate_limit=5, headers_from_env={"Authorization": "WIKI_TOKEN"}) as http:
        response = http.get("https://wiki.example.com/api/pages", params={"since": since})

A request that fails for a reason that may pass (a connection error, a timeout, 429, 502,
503, 504) is retried up to ``retries`` times, waiting as the server asks (``Retry-After``, in
seconds or as a date) or else exponentially longer with jitter. A server that asks for more
than ``max_wait`` seconds, or still fails after the last retry, ends in :class:`HttpError`
(a :class:`~ragops.errors.ConnectorError`): the listing fails and nothing is deleted, rather
than a page being skipped. Other statuses (200, 304, 404, …) are returned for the caller to
judge.

Secrets belong in environment variables: ``headers_from_env`` names them, and their values are
never part of an error message.
"""

from __future__ import annotations

import email.utils
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
)

from ragops import __version__
from ragops.errors import ConfigError, ConnectorError

__all__ = [
    "RETRIED_STATUSES",
    "HttpClient",
    "HttpError",
    "RateLimiter",
    "TooManyRedirectsError",
    "retry_after_seconds",
]

#: Statuses that may pass on their own: retried with backoff.
RETRIED_STATUSES = frozenset({429, 502, 503, 504})

_DEFAULT_AGENT = f"ragops/{__version__} (+https://github.com/ragops/ragops)"


class HttpError(ConnectorError):
    """A request that failed after its retries (or was refused a retry): names the URL."""


class TooManyRedirectsError(HttpError):
    """A URL whose redirects do not end (a loop, or more than 20): a property of the URL,
    not a passing failure, so it is never retried."""


class _WaitTooLong(Exception):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class RateLimiter:
    """At most ``per_second`` requests per host, spaced evenly (thread-safe).

    ``per_second`` of 0 or less means no limit. :meth:`slow_down` lowers the rate for one
    host (a robots.txt ``Crawl-delay``)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._intervals: dict[str, float] = {}
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def slow_down(self, host: str, interval: float) -> None:
        with self._lock:
            self._intervals[host] = max(interval, self._intervals.get(host, self.interval))

    def wait(self, host: str) -> None:
        with self._lock:
            interval = self._intervals.get(host, self.interval)
            now = time.monotonic()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + interval
        if start > now:
            time.sleep(start - now)


class HttpClient:
    """A thin layer over :class:`httpx.Client` for connectors (see the module docstring).

    Args:
        timeout: seconds for connecting and for each read.
        retries: how many times a request that may pass is retried.
        backoff: the first wait in seconds when the server gives no Retry-After (then doubled
            per attempt, with jitter, up to ``max_wait``).
        max_wait: the longest wait ragops accepts between attempts; a Retry-After above it
            fails the request at once.
        rate_limit: requests per second per host (0: no limit).
        headers: headers sent with every request (no secrets: use ``headers_from_env``).
        headers_from_env: header name -> environment variable holding its value.
        user_agent: the User-Agent header.
        follow_redirects: follow 3xx answers (the response's ``url`` is where it ended).
    """

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.5,
        max_wait: float = 120.0,
        rate_limit: float = 0.0,
        headers: Mapping[str, str] | None = None,
        headers_from_env: Mapping[str, str] | None = None,
        user_agent: str = _DEFAULT_AGENT,
        follow_redirects: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.limiter = RateLimiter(rate_limit)
        self._secrets: set[str] = set()
        all_headers = {"User-Agent": user_agent, **dict(headers or {})}
        for header, variable in (headers_from_env or {}).items():
            value = os.environ.get(variable)
            if value is None:
                raise ConfigError(
                    f"header {header!r} comes from the environment variable {variable}, which "
                    "is not set; export it where ragops runs"
                )
            all_headers[header] = value
            self._secrets.add(value)
        self.client = httpx.Client(
            timeout=timeout,
            headers=all_headers,
            follow_redirects=follow_redirects,
            transport=transport,
        )

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def get(
        self,
        url: str,
        *,
        read_body: Callable[[httpx.Response], bool] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """GET ``url`` with retries (see the module docstring); the final response, whatever
        its status, unless it is one that is retried (then :class:`HttpError`).

        ``read_body`` is called with the response once its headers are in: when it returns
        False the body is never downloaded (the response is closed; do not read
        ``.content``), e.g. for a content type or a Content-Length you will not use.
        """
        return self.request("GET", url, read_body=read_body, **kwargs)

    def request(
        self,
        method: str,
        url: str,
        *,
        read_body: Callable[[httpx.Response], bool] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """``method`` on ``url`` with retries; see :meth:`get`."""
        host = urlsplit(url).netloc

        def attempt() -> httpx.Response:
            self.limiter.wait(host)
            response = self.client.send(self.client.build_request(method, url, **kwargs),
                                        stream=True)  # fmt: skip
            try:
                retried = response.status_code in RETRIED_STATUSES
                if not retried and (read_body is None or read_body(response)):
                    response.read()
            finally:
                response.close()
            return response

        retrying = Retrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(httpx.TransportError)
            | retry_if_result(lambda r: r.status_code in RETRIED_STATUSES),
            reraise=True,  # a transport error comes out as itself, a status as RetryError
        )
        try:
            return retrying(attempt)
        except _WaitTooLong as wait:
            raise self._error(
                f"{method} {url}: the server asks to wait {wait.seconds:.0f} s (Retry-After), "
                f"more than max_wait ({self.max_wait:.0f} s); try again later or raise max_wait"
            ) from None
        except RetryError as exhausted:
            status = exhausted.last_attempt.result().status_code
            raise self._error(
                f"{method} {url}: HTTP {status} after {self.retries + 1} attempts (the server "
                "is overloaded or rate-limiting); try again later, or lower rate_limit"
            ) from None
        except httpx.TooManyRedirects as exc:
            raise self._error(f"{method} {url}: {exc}", TooManyRedirectsError) from None
        except httpx.HTTPError as exc:
            raise self._error(
                f"{method} {url} failed after {self.retries + 1} attempts: "
                f"{exc.__class__.__name__}: {exc}"
            ) from None

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        asked = None
        if outcome is not None and not outcome.failed:
            asked = retry_after_seconds(outcome.result().headers.get("Retry-After"))
        if asked is not None:
            if asked > self.max_wait:
                raise _WaitTooLong(asked)
            return asked
        exponential = self.backoff * 2 ** (state.attempt_number - 1)
        return min(self.max_wait, exponential * (0.5 + random.random()))  # noqa: S311

    def _error(self, message: str, kind: type[HttpError] = HttpError) -> HttpError:
        """An HttpError whose message shows no secret (replaced by ``***``)."""
        for secret in self._secrets:
            if secret:
                message = message.replace(secret, "***")
        return kind(message)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number, or an HTTP date); None if absent
    or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
