"""``ragops serve``: one long-running process that owns a project (the embedded store, the
catalog, warm models) and serves it over HTTP, so applications read production while syncs
run beside them.

- :mod:`ragops.serve.app`: the FastAPI application (``create_app``), its error answers and
  limits.
- :mod:`ragops.serve.routes`: the ``/v1`` endpoints, each a call of a library step.
- :mod:`ragops.serve.middleware`: the request size limit and per-route metrics.
- :mod:`ragops.serve.schemas`: what the endpoints take and return.
- :mod:`ragops.serve.auth`: API keys (``Authorization: Bearer rgk_…``) and scopes.
- :mod:`ragops.serve.jobs`: syncs and runs in a background worker, followed by id.
- :mod:`ragops.serve.metrics`: Prometheus metrics (``/metrics``).
- :mod:`ragops.serve.server`: running it on uvicorn, and the ``server.json`` file that tells
  other processes where it listens.

Applications call it with ``Retriever.connect(url, api_key=...)`` (:mod:`ragops.remote`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ragops.serve.app import create_app
    from ragops.serve.server import serve

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> Any:
    # Imported on use: a client reading ``ragops.serve.schemas`` does not load FastAPI.
    if name == "create_app":
        from ragops.serve.app import create_app

        return create_app
    if name == "serve":
        from ragops.serve.server import serve

        return serve
    raise AttributeError(f"module 'ragops.serve' has no attribute {name!r}")
