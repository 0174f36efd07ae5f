"""A real OpenAI-protocol HTTP server on loopback, for tests of generation and LLM judges.

No LLM exists on the test machines, so the tests talk to this server instead: it listens on
127.0.0.1 (a free port), implements ``POST /v1/chat/completions`` (and ``/v1/embeddings``
with deterministic vectors, for clients that want them), records every request it receives,
and answers from a script::

    from tests.openai_stub import OpenAIStub, Reply

    with OpenAIStub() as stub:
        stub.script("first answer", Reply(status=500), "after the retry")
        stub.route("judge the faithfulness", lambda request: Reply(json={...}))
        client = OpenAI(base_url=stub.base_url, api_key="x")
        ...
        assert "retrieved text" in stub.requests[0].prompt

Replies are chosen in this order: the next scripted reply (``script``), else the first route
whose text occurs in the request's messages (``route``), else ``default``. A :class:`Reply`
can carry an HTTP error status, a malformed body, or a delay (to push a client past its
timeout; a delayed reply is cut short when the server stops).

In tests, use the ``openai_stub`` fixture (import it into the test module).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

__all__ = ["OpenAIStub", "RecordedRequest", "Reply", "openai_stub"]


@dataclass
class Reply:
    """What the server answers to one request.

    ``content``: the assistant's text; ``json``: an object sent as the assistant's text
    (JSON-encoded, as a structured-output model would); ``status``: an HTTP error status
    (with an OpenAI-style error body); ``body``: raw bytes/text sent as is (malformed
    replies); ``delay``: seconds to wait before answering; ``headers``: extra headers
    (``retry-after-ms`` makes a client's retry quick).
    """

    content: str | None = None
    json: Any = None
    status: int = 200
    body: bytes | str | None = None
    delay: float = 0.0
    prompt_tokens: int = 11
    completion_tokens: int = 7
    headers: dict[str, str] = field(default_factory=dict)
    model: str | None = None


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict):
            return list(self.body.get("messages") or [])
        return []

    @property
    def prompt(self) -> str:
        """Every message's text, joined (what routes match against)."""
        parts = []
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, list):  # content parts
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            parts.append(str(content or ""))
        return "\n".join(parts)

    @property
    def user_prompt(self) -> str:
        """The text of the last user message."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return str(message.get("content") or "")
        return ""


ReplySpec = Reply | str | Callable[[RecordedRequest], "Reply | str"]


class OpenAIStub:
    """The server. ``start()``/``stop()`` or use it as a context manager."""

    def __init__(self, *, default: ReplySpec = "stub answer", model: str = "stub-model") -> None:
        self.default: ReplySpec = default
        self.model = model
        self.requests: list[RecordedRequest] = []
        self._script: deque[ReplySpec] = deque()
        self._routes: list[tuple[str, ReplySpec]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.in_flight = 0
        self.max_in_flight = 0  # the most chat requests it was answering at once

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> OpenAIStub:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # cut delayed replies short
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start the stub first"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting -------------------------------------------------------------------------

    def script(self, *replies: ReplySpec) -> None:
        """Queue replies answered in order, before any route."""
        with self._lock:
            self._script.extend(replies)

    def route(self, contains: str, reply: ReplySpec) -> None:
        """Answer requests whose messages contain ``contains`` with ``reply``."""
        with self._lock:
            self._routes.append((contains, reply))

    def reset(self) -> None:
        """Forget the requests, the script, the routes and the in-flight peak."""
        with self._lock:
            self.requests.clear()
            self._script.clear()
            self._routes.clear()
            self.max_in_flight = 0

    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def requests_containing(self, text: str) -> list[RecordedRequest]:
        return [r for r in self.chat_requests() if text in r.prompt]

    # -- serving ---------------------------------------------------------------------------

    def _choose(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            spec: ReplySpec | None = self._script.popleft() if self._script else None
            if spec is None:
                text = request.prompt
                spec = next((r for needle, r in self._routes if needle in text), self.default)
        if callable(spec) and not isinstance(spec, Reply):
            spec = spec(request)
        return spec if isinstance(spec, Reply) else Reply(content=str(spec))

    def _completion_body(self, request: RecordedRequest, reply: Reply) -> bytes:
        if reply.body is not None:
            return reply.body.encode() if isinstance(reply.body, str) else reply.body
        if reply.status >= 400:
            return json.dumps(
                {
                    "error": {
                        "message": reply.content or f"stub error {reply.status}",
                        "type": "server_error" if reply.status >= 500 else "invalid_request_error",
                        "code": None,
                    }
                }
            ).encode()
        content = json.dumps(reply.json) if reply.json is not None else (reply.content or "")
        body = request.body if isinstance(request.body, dict) else {}
        return json.dumps(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": reply.model or body.get("model") or self.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": reply.prompt_tokens,
                    "completion_tokens": reply.completion_tokens,
                    "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                },
            }
        ).encode()

    def _embeddings_body(self, request: RecordedRequest) -> bytes:
        body = request.body if isinstance(request.body, dict) else {}
        inputs = body.get("input") or []
        if isinstance(inputs, str):
            inputs = [inputs]
        data = [
            {"object": "embedding", "index": i, "embedding": _fake_vector(str(text))}
            for i, text in enumerate(inputs)
        ]
        return json.dumps(
            {
                "object": "list",
                "data": data,
                "model": body.get("model") or self.model,
                "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
            }
        ).encode()


def _fake_vector(text: str, dim: int = 16) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [(b - 128) / 128 for b in digest[:dim]]


def _handler_for(stub: OpenAIStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stall

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path.rstrip("/").endswith("/models"):
                payload = {"object": "list", "data": [{"id": stub.model, "object": "model"}]}
                self._send(200, json.dumps(payload).encode())
            else:
                self._send(404, b'{"error": {"message": "not found"}}')

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            request = RecordedRequest(
                method="POST",
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                received_at=time.monotonic(),
            )
            if self.path.rstrip("/").endswith("/embeddings"):
                with stub._lock:
                    stub.requests.append(request)
                self._send(200, stub._embeddings_body(request))
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                with stub._lock:
                    stub.requests.append(request)
                self._send(404, b'{"error": {"message": "no such route on the stub"}}')
                return
            with stub._lock:
                stub.in_flight += 1
                stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
            try:
                reply = stub._choose(request)
                if reply.delay and stub._stopping.wait(reply.delay):
                    return  # the server is stopping
                self._send(reply.status, stub._completion_body(request, reply), reply.headers)
            finally:
                with stub._lock:
                    stub.in_flight -= 1

        def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout) before the reply

    return Handler


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    """A started :class:`OpenAIStub`, stopped after the test."""
    stub = OpenAIStub().start()
    try:
        yield stub
    finally:
        stub.stop()
