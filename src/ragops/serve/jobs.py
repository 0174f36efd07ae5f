"""Syncs and runs started over HTTP: queued, run one at a time by a background worker (the
pipeline's own leases serialize them with everything else), and followed by id."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ragops.errors import IndexNotFoundError

__all__ = ["Job", "JobRunner"]

#: Finished jobs kept for ``GET /v1/jobs`` (the oldest are forgotten first).
KEEP_FINISHED = 200


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    id: str
    kind: str
    index: str | None
    submitted_by: str
    submitted_at: str
    state: str = "queued"
    started_at: str | None = None
    finished_at: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class JobRunner:
    """One worker thread; ``submit`` returns at once with the queued job."""

    def __init__(self, on_finish: Callable[[Job], None] | None = None) -> None:
        self._on_finish = on_finish
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragops-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def submit(
        self, kind: str, index: str | None, by: str, work: Callable[[], dict[str, Any]]
    ) -> Job:
        job = Job(uuid.uuid4().hex, kind, index, by, _now())
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        self._executor.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise IndexNotFoundError(f"no job {job_id!r} (jobs are kept while the server runs)")
        return job

    def all(self) -> list[Job]:
        with self._lock:
            return list(reversed(self._jobs.values()))

    def shutdown(self) -> None:
        """Wait for the running job; queued ones are dropped (a sync is resumable)."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _run(self, job: Job, work: Callable[[], dict[str, Any]]) -> None:
        job.state, job.started_at = "running", _now()
        try:
            job.result = work()
            job.state = "succeeded"
        except Exception as exc:  # noqa: BLE001  (reported on the job, the server goes on)
            job.error = {"type": exc.__class__.__name__, "message": str(exc)}
            job.state = "failed"
        finally:
            job.finished_at = _now()
            if self._on_finish is not None:
                self._on_finish(job)

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.finished_at is not None]
        for job_id in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job_id]
