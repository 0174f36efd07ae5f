"""The server's one middleware, written against ASGI directly (Starlette's
``BaseHTTPMiddleware`` spawns a task and two memory streams per request, which cost more event
loop time than a search's own Python work): it refuses bodies over the size limit before they
are read, and counts and times every request by its route template."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ragops.serve.metrics import Metrics

__all__ = ["LimitAndMeasure"]


class LimitAndMeasure:
    """413 for a request whose ``Content-Length`` is over ``max_body_bytes`` (or not a number);
    ``ragops_http_requests`` and ``ragops_http_request_seconds`` for every HTTP request, named by
    route template (``/v1/indexes/{index}/search``, never the raw path, so labels stay few)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        templates: list[tuple[re.Pattern[str], str]],
        max_body_bytes: int,
        too_large: Callable[[str, int], Any],
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates
        self.max_body_bytes = max_body_bytes
        self.too_large = too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts (an unhandled error ends the request)

        async def measured_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            length = _header(scope, b"content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
                response = self.too_large(length, self.max_body_bytes)
                await response(scope, receive, measured_send)
            else:
                await self.app(scope, receive, measured_send)
        finally:
            path = scope["path"]
            name = next((t for rx, t in self.templates if rx.match(path)), "unmatched")
            self.metrics.requests.labels(name, scope["method"], str(status)).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - started)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
