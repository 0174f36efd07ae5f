"""The endpoints. Each one checks the caller's key and calls a library step; none holds
logic of its own (the CLI calls the same steps)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ragops.access import require_scope
from ragops.catalog import INDEX, ApiKeyRecord, acting_as
from ragops.config.models import did_you_mean
from ragops.errors import IndexNotFoundError
from ragops.project import Project
from ragops.serve.auth import LOCAL_KEY_ID, caller
from ragops.serve.schemas import (
    AskIn,
    EvalIn,
    JobOut,
    PromoteIn,
    RollbackIn,
    RunIn,
    SearchIn,
    SearchManyIn,
    SearchManyOut,
    SearchOut,
    SyncIn,
)

if TYPE_CHECKING:  # pragma: no cover
    from ragops.retriever import Retriever

__all__ = ["health_router", "v1_router"]

health_router = APIRouter(tags=["health"])
v1_router = APIRouter(tags=["v1"])

#: Seconds a promotion or rollback waits for the index's lease (a sync job may hold it).
LEASE_WAIT_SECONDS = 30.0

Reader = Annotated[ApiKeyRecord, Depends(caller("read", "reading"))]
Writer = Annotated[ApiKeyRecord, Depends(caller("write", "this operation"))]


def _project(request: Request) -> Project:
    project: Project = request.app.state.project
    return project


def _index(project: Project, index: str) -> str:
    """``index``, known to the project: else a 404 naming the indexes there are."""
    names = list(project.config.indexes)
    if index not in names:
        raise IndexNotFoundError(
            f"unknown index {index!r}{did_you_mean(index, names)}; indexes: {', '.join(names)}"
        )
    return index


# -- health ----------------------------------------------------------------------------------


@health_router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@health_router.get("/readyz", summary="Models are warm and the catalog answers")
def readyz(request: Request) -> JSONResponse:
    if not request.app.state.ready:
        return JSONResponse({"status": "starting"}, status_code=503)
    try:
        with _project(request).catalog.database.read() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001  (reported as not ready)
        return JSONResponse({"status": f"catalog unreachable: {exc}"}, status_code=503)
    return JSONResponse({"status": "ready"})


@health_router.get("/metrics", summary="Prometheus metrics")
def metrics(request: Request) -> Response:
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )


# -- reading ---------------------------------------------------------------------------------


@v1_router.get("/indexes", summary="Indexes, their environments and newest version")
def indexes(request: Request, _key: Reader) -> dict[str, Any]:
    project = _project(request)
    rows = []
    for name in project.config.indexes:
        latest = project.catalog.versions.latest(name)
        pointers = project.catalog.pointers.of_subject(INDEX, name)
        rows.append(
            {
                "index": name,
                "latest_version": latest.number if latest is not None else None,
                "environments": {env: p.version for env, p in sorted(pointers.items())},
                "held": {env: p.hold.describe() for env, p in sorted(pointers.items()) if p.hold},
            }
        )
    return {"indexes": rows}


@v1_router.get("/indexes/{index}/versions", summary="The versions of an index")
def versions(index: str, request: Request, _key: Reader) -> dict[str, Any]:
    project = _project(request)
    _index(project, index)
    rows = [
        {
            "version": v.number,
            "created_at": v.created_at.isoformat(timespec="seconds"),
            "documents": v.documents,
            "chunks": v.chunks,
            "pruned": v.pruned_at is not None,
        }
        for v in project.catalog.versions.of_index(index)
    ]
    return {"index": index, "versions": rows}


@v1_router.get("/indexes/{index}/history", summary="Every environment move, with evidence")
def history(index: str, request: Request, _key: Reader, env: str | None = None) -> dict[str, Any]:
    project = _project(request)
    _index(project, index)
    moves = project.catalog.pointers.history(INDEX, index, env)
    return {
        "index": index,
        "history": [
            {
                "at": m.at.isoformat(timespec="seconds"),
                "env": m.name,
                "action": m.action,
                "from_version": m.from_version,
                "to_version": m.to_version,
                "actor": m.actor,
                "reason": m.reason,
                "forced": m.forced,
                "evidence": m.evidence,
            }
            for m in moves
        ],
    }


@v1_router.post("/indexes/{index}/search", summary="Search an environment or a version")
def search(index: str, body: SearchIn, request: Request, key: Reader) -> SearchOut:
    started = time.perf_counter()
    retriever = _retriever(request, index, body, key)
    hits = retriever.search(
        body.query, k=body.k, filters=body.filters, group_by=body.group_by,
        group_size=body.group_size, mode=body.mode,
    )  # fmt: skip
    request.app.state.metrics.searches.labels(index, str(retriever.last_version)).inc()
    return SearchOut(
        index=index,
        env=retriever.env,
        version=retriever.last_version,
        hits=[h.to_dict() for h in hits],  # type: ignore[misc]
        took_ms=round((time.perf_counter() - started) * 1000, 2),
    )


@v1_router.post(
    "/indexes/{index}/search_many",
    summary="Several searches at once, all reading one version (their queries embedded in one "
    "batch)",
)
def search_many(index: str, body: SearchManyIn, request: Request, key: Reader) -> SearchManyOut:
    started = time.perf_counter()
    retriever = _retriever(request, index, body, key)
    results = retriever.search_many(
        body.queries, k=body.k, filters=body.filters, group_by=body.group_by,
        group_size=body.group_size, mode=body.mode,
    )  # fmt: skip
    request.app.state.metrics.searches.labels(index, str(retriever.last_version)).inc(
        len(body.queries)
    )
    return SearchManyOut(
        index=index,
        env=retriever.env,
        version=retriever.last_version,
        results=[[h.to_dict() for h in hits] for hits in results],  # type: ignore[misc]
        took_ms=round((time.perf_counter() - started) * 1000, 2),
    )


def _retriever(
    request: Request, index: str, body: SearchIn | SearchManyIn, key: ApiKeyRecord
) -> Retriever:
    """The retriever a search request reads with: its index, environment or version, and the
    key's principals (an admin key may name others)."""
    from ragops.retriever import Retriever

    project = _project(request)
    _index(project, index)
    principals = _reading_as(key)
    if body.principals is not None:
        require_scope(key, "admin", "searching on behalf of principals")
        principals = tuple(body.principals)
    return Retriever(
        project, index, env=body.env, version=body.version, principals=principals,
        face="server", asked_by=_actor(key),
    )  # fmt: skip


@v1_router.post("/indexes/{index}/ask", summary="Retrieve, render the prompt, ask the LLM")
def ask(index: str, body: AskIn, request: Request, key: Reader) -> dict[str, Any]:
    from ragops.llm.answers import ask as ask_llm
    from ragops.llm.prompts import index_prompt

    project = _project(request)
    _index(project, index)
    answer = ask_llm(
        project, index, body.question, env=body.env, version=body.version, k=body.k,
        filters=body.filters, prompt=index_prompt(project, index, body.prompt),
        principals=_reading_as(key), face="server", asked_by=_actor(key),
    )  # fmt: skip
    return answer.to_dict()


# -- changing --------------------------------------------------------------------------------


@v1_router.post(
    "/indexes/{index}/eval", status_code=202, summary="Start an eval; follow it at /v1/jobs/{id}"
)
def start_eval(index: str, body: EvalIn, request: Request, key: Writer) -> JobOut:
    from ragops.evals.evaluate import evaluate_index
    from ragops.evals.results import check_eval_set, version_of
    from ragops.llm.prompts import index_prompt

    project = _project(request)
    _index(project, index)
    if body.dataset is not None:  # a bad request fails before any work is queued
        check_eval_set(project, index, body.dataset)
    if body.version is not None:
        version_of(project, index, body.version)
    if body.candidate:
        if body.dataset is not None or body.prompt is not None:
            raise ValueError(
                "a candidate eval runs every eval set with the candidate prompt: leave dataset "
                "and prompt unset (or set candidate to false)"
            )
        return _submit(
            request, "eval", index, key, lambda project: _candidate(project, index, body.version)
        )

    def work(project: Project) -> dict[str, Any]:
        prompt = index_prompt(project, index, body.prompt)
        runs = evaluate_index(
            project, index, version=body.version, dataset=body.dataset, prompt=prompt,
            modes=body.modes,
        )  # fmt: skip
        return {"evals": [run.to_dict() for run in runs]}

    return _submit(request, "eval", index, key, work)


@v1_router.post("/indexes/{index}/promote", summary="Point an environment at a version")
def promote(index: str, body: PromoteIn, request: Request, key: Writer) -> dict[str, Any]:
    from ragops.environments.promotion import promote as promote_version

    project = _project(request)
    _index(project, index)
    with acting_as(_actor(key)):
        promotion = promote_version(
            project, index, body.version, body.env, prompt=body.prompt, force=body.force,
            reason=body.reason, wait=LEASE_WAIT_SECONDS, automatic=body.automatic,
        )  # fmt: skip
    return promotion.to_dict()


@v1_router.post("/indexes/{index}/rollback", summary="Undo an environment's last promotion")
def rollback(index: str, body: RollbackIn, request: Request, key: Writer) -> dict[str, Any]:
    from ragops.environments.promotion import rollback as rollback_env

    project = _project(request)
    _index(project, index)
    with acting_as(_actor(key)):
        rolled = rollback_env(
            project, index, body.env, reason=body.reason, wait=LEASE_WAIT_SECONDS, hold=body.hold
        )
    return rolled.to_dict()


@v1_router.post(
    "/indexes/{index}/stage",
    status_code=202,
    summary="List, diff, parse and chunk the changes into the index's staging folder (the "
    "pipeline's stage step, for a sync with staged: true)",
)
def start_stage(index: str, request: Request, key: Writer) -> JobOut:
    from ragops import pipeline

    return _submit(
        request, "stage", index, key,
        lambda project: pipeline.stage_to_disk(project, index).to_dict(),
    )  # fmt: skip


@v1_router.post(
    "/indexes/{index}/sync", status_code=202, summary="Start a sync; follow it at /v1/jobs/{id}"
)
def start_sync(index: str, request: Request, key: Writer, body: SyncIn | None = None) -> JobOut:
    from ragops import pipeline

    options = body or SyncIn()

    def work(project: Project) -> dict[str, Any]:
        if options.staged:
            built = pipeline.build_staged(
                project, index, allow_mass_delete=options.allow_mass_delete
            )
        else:
            built = pipeline.build(
                project, index, allow_mass_delete=options.allow_mass_delete,
                full_listing=options.full_listing,
            )  # fmt: skip
        return built.sync.to_dict() if built.sync is not None else {"version": built.version}

    return _submit(request, "sync", index, key, work)


@v1_router.post(
    "/indexes/{index}/run", status_code=202, summary="Start sync, eval and promotion (the main job)"
)
def start_run(index: str, request: Request, key: Writer, body: RunIn | None = None) -> JobOut:
    from ragops import pipeline

    options = body or RunIn()

    def work(project: Project) -> dict[str, Any]:
        return pipeline.run(project, index, envs=options.envs, query=options.query).to_dict()

    return _submit(request, "run", index, key, work)


def _candidate(project: Project, index: str, version: int | None) -> dict[str, Any]:
    """The pipeline's evaluate step on ``version`` (default: the newest)."""
    from ragops import pipeline
    from ragops.errors import IndexNotFoundError

    if version is None:
        latest = project.catalog.versions.latest(index)
        if latest is None:
            raise IndexNotFoundError(f"index {index!r} has no version yet: sync it first")
        version = latest.number
    candidate = pipeline.evaluate(project, pipeline.Built(index, version))
    return {"candidate": candidate.to_dict(), "evals": candidate.to_dict()["evals"]}


def _submit(
    request: Request,
    kind: str,
    index: str,
    key: ApiKeyRecord,
    work: Callable[[Project], dict[str, Any]],
) -> JobOut:
    """Queue ``work`` on the project as a job of ``key`` (acting as it); the queued job."""
    project = _project(request)
    _index(project, index)

    def run() -> dict[str, Any]:
        with acting_as(_actor(key)):
            return work(project)

    return JobOut(**request.app.state.jobs.submit(kind, index, key.key_id, run).to_dict())


@v1_router.get("/jobs", summary="Jobs of this server, newest first")
def jobs(request: Request, _key: Reader) -> dict[str, Any]:
    return {"jobs": [job.to_dict() for job in request.app.state.jobs.all()]}


@v1_router.get("/jobs/{job_id}", summary="One job: its state, result or error")
def job(job_id: str, request: Request, _key: Reader) -> JobOut:
    return JobOut(**request.app.state.jobs.get(job_id).to_dict())


def _reading_as(key: ApiKeyRecord) -> tuple[str, ...] | None:
    """Whose documents a key reads: its principals', every document for an admin key."""
    return None if key.scope == "admin" else key.principals


def _actor(key: ApiKeyRecord) -> str:
    """Who acts, in history and the audit log: the key, and whom it acts for (the local
    token: the user of the CLI that sent it)."""
    if key.key_id == LOCAL_KEY_ID:
        return key.created_by
    return f"key:{key.key_id} ({key.principals[0]})"
