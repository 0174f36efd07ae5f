"""The FastAPI application of ``ragops serve``: errors as ``{"error": {"type", "message"}}``
with the status a client can act on, a request size limit, and metrics for every request.

The app serves one open :class:`~ragops.project.Project`; it does not own it (whoever created
the app closes the project, see :mod:`ragops.serve.server`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.routing import compile_path

from ragops import __version__
from ragops.errors import (
    AuthenticationError,
    ConfigError,
    EvalError,
    IndexLockedError,
    IndexNotFoundError,
    MassDeleteError,
    PermissionDeniedError,
    PromotionError,
    RagopsError,
    StoreError,
)
from ragops.serve.jobs import JobRunner
from ragops.serve.metrics import Metrics
from ragops.serve.middleware import LimitAndMeasure

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

__all__ = ["MAX_BODY_BYTES", "create_app", "status_of"]

log = logging.getLogger("ragops.serve")

#: Requests with a larger body are refused (413) before they are read.
MAX_BODY_BYTES = 1024 * 1024

#: The HTTP status of each error a step may raise (the most specific class wins).
STATUS: tuple[tuple[type[RagopsError], int], ...] = (
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (IndexNotFoundError, 404),
    (IndexLockedError, 409),
    (PromotionError, 409),
    (MassDeleteError, 409),
    (ConfigError, 400),
    (EvalError, 400),
    (StoreError, 503),
)


def status_of(error: RagopsError) -> int:
    return next((code for kind, code in STATUS if isinstance(error, kind)), 500)


def error_response(status: int, kind: str, message: str, **extra: Any) -> JSONResponse:
    """``{"error": {"type", "message", **extra}}`` with ``status``."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": {"type": kind, "message": message, **extra}}, status_code=status,
        headers=headers,
    )  # fmt: skip


async def _flush_query_log(project: Project) -> None:
    """Write the query log's buffer every second, so ``ragops queries`` sees it soon."""
    while True:
        await asyncio.sleep(1.0)
        log = project.query_log
        if log is not None:
            await asyncio.to_thread(log.flush)


def create_app(
    project: Project, *, max_body_bytes: int = MAX_BODY_BYTES, local_token: str | None = None
) -> FastAPI:
    """The HTTP application serving ``project`` (open, and kept open by the caller).
    ``local_token``: a secret that acts as an admin key (the CLI of the same project reads it
    from ``<data_dir>/server.token``)."""
    metrics = Metrics()
    templates: list[tuple[re.Pattern[str], str]] = []
    jobs = JobRunner(on_finish=lambda job: metrics.jobs.labels(job.kind, job.state).inc())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        project.store  # noqa: B018  (the server owns the embedded store from the start)
        project.batch_queries = True  # concurrent searches share model calls
        for index in project.config.indexes:  # load models now: the first search is not slow
            # through the batcher: its thread is the only one that runs the model for queries
            # (each thread that calls PyTorch gets its own OpenMP team, and two teams on the
            # same cores slow every query down by half)
            batcher = project.query_batcher(project.embedder(index))
            await asyncio.to_thread(batcher.embed, ["warm up"])
        flusher = asyncio.create_task(_flush_query_log(project))
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready = False
            flusher.cancel()
            jobs.shutdown()
            if project.query_log is not None:
                project.query_log.flush()

    app = FastAPI(
        title="ragops",
        version=__version__,
        description="Search and manage versioned retrieval indexes. Every `/v1` endpoint "
        "needs an API key: `Authorization: Bearer rgk_…` (`ragops keys create`).",
        lifespan=lifespan,
    )
    app.state.project = project
    app.state.local_token = local_token
    app.state.jobs = jobs
    app.state.metrics = metrics
    app.state.ready = False

    @app.exception_handler(RagopsError)
    async def ragops_error(_request: Request, exc: RagopsError) -> JSONResponse:
        gates = getattr(exc, "gates", None)  # a refused promotion: every gate's evidence
        extra = {"gates": [g.to_dict() for g in gates]} if gates else {}
        return error_response(status_of(exc), exc.__class__.__name__, str(exc), **extra)

    @app.exception_handler(ValueError)
    async def invalid_value(_request: Request, exc: ValueError) -> JSONResponse:
        return error_response(400, "InvalidRequest", str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(
            500, "InternalError",
            f"{exc.__class__.__name__} while serving {request.method} {request.url.path}: this "
            "is a bug in ragops; the server log has the traceback",
        )  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()))
            problems.append(f"{where}: {error.get('msg', 'invalid')}")
        return error_response(422, "RequestValidationError", "; ".join(problems))

    app.add_middleware(
        LimitAndMeasure,
        metrics=metrics,
        templates=templates,
        max_body_bytes=max_body_bytes,
        too_large=lambda length, limit: error_response(
            413,
            "RequestTooLarge",
            f"request body of {length} bytes is over the limit of {limit} bytes",
        ),  # fmt: skip
    )

    from ragops.serve.routes import health_router, v1_router

    app.include_router(health_router)
    app.include_router(v1_router, prefix="/v1")
    # Metrics name requests by route template (``/v1/indexes/{index}/search``), never by the
    # raw path, so a label's values stay few.
    for prefix, routes in (("", app.routes), ("", health_router.routes), ("/v1", v1_router.routes)):
        for route in routes:
            path = getattr(route, "path", None)
            if isinstance(path, str):
                templates.append((compile_path(prefix + path)[0], prefix + path))
    return app
