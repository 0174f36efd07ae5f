"""OpenTelemetry traces, following the GenAI semantic conventions.

ragops creates spans through the OpenTelemetry API only: without an SDK tracer provider they
are no-ops that cost next to nothing. Spans:

- ``retrieval {index}`` around a search (``gen_ai.operation.name = retrieval``,
  ``gen_ai.data_source.id`` = the index, ``gen_ai.request.top_k``, and ``ragops.index.version``
  / ``ragops.index.env`` / ``ragops.hits``);
- ``embeddings {model}`` around the query embedding (``gen_ai.request.model``);
- ``chat {model}`` around an LLM call (``gen_ai.provider.name``, ``gen_ai.request.model``,
  ``gen_ai.usage.input_tokens`` / ``output_tokens``, ``gen_ai.response.model``).

An application that installs its own tracer provider gets them there. ``ragops serve`` (or any
process that calls :func:`configure_tracing`) exports them over OTLP/HTTP when
``tracing.otlp_endpoint`` is set in ``ragops.yaml``.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ragops.config import ProjectConfig

__all__ = ["configure_tracing", "shutdown_tracing", "tracer"]

_configured: dict[str, Any] = {}


@cache
def tracer() -> Any:
    """The ragops tracer of the global tracer provider (no-op spans when there is none; a
    provider installed later is used from then on: the API's proxy tracer follows it)."""
    from opentelemetry import trace

    return trace.get_tracer("ragops", _version())


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ragops")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def configure_tracing(config: ProjectConfig) -> bool:
    """Export spans over OTLP/HTTP to ``tracing.otlp_endpoint`` (once per process, and only
    when no tracer provider is installed yet). True when this call installed one."""
    endpoint = config.tracing.otlp_endpoint
    if not endpoint or _configured:
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return False  # the application set up tracing itself: use it as it is
    provider = TracerProvider(
        resource=Resource.create({"service.name": config.tracing.service_name})
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    _configured["provider"] = provider
    return True


def shutdown_tracing() -> None:
    """Send what is buffered and stop the exporter :func:`configure_tracing` installed."""
    provider = _configured.pop("provider", None)
    if provider is not None:
        provider.shutdown()
