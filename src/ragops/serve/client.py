"""The project's own running server, for the CLI and the Dagster steps: while ``ragops serve``
runs for a project, it owns the embedded store, so ``ragops search``, ``sync``, ``run``,
``eval``, ``promote`` and ``rollback`` and the Dagster steps that need the store go through it
(with its local token, ``<data_dir>/server.token``) instead of opening the store. With no
server they run in their own process, as always.

The answers are the library's own objects rebuilt from the server's JSON, so the commands
print the same either way. (Applications use :mod:`ragops.remote` and an API key instead.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragops import errors
from ragops.remote import error_from_body

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from ragops.config import ProjectConfig
    from ragops.environments.promotion import Promotion
    from ragops.pipeline import Candidate, Staging, Verdict
    from ragops.versions.sync import SyncResult

__all__ = ["ProjectServer", "project_server", "promotion", "sync_result"]

#: Seconds a job (a sync) may take before the CLI stops following it.
JOB_TIMEOUT_SECONDS = 6 * 3600


def project_server(config: str | Path | ProjectConfig | None) -> ProjectServer | None:
    """The server of the project ``config`` (a ragops.yaml path, a loaded config, or None to
    search for ragops.yaml) when one runs and this user may read its local token."""
    from ragops.catalog import current_actor
    from ragops.config import ProjectConfig, load_config
    from ragops.discovery import local_token, running_server

    if not isinstance(config, ProjectConfig):
        config = load_config(config)
    info = running_server(config.data_path)
    token = local_token(config.data_path) if info is not None else None
    if info is None or token is None:
        return None
    return ProjectServer(str(info["url"]), token, current_actor(), tuple(config.indexes))


@dataclass
class ProjectServer:
    url: str
    token: str
    actor: str
    #: The project's indexes, in configuration order.
    indexes: tuple[str, ...] = ()

    def index_names(self, index: str | None) -> list[str]:
        """``[index]``, or every index of the project (a command's default)."""
        return [index] if index else list(self.indexes)

    def client(self, timeout: float = 600.0) -> httpx.Client:
        import httpx

        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}", "X-Ragops-Actor": self.actor},
            timeout=timeout,
            trust_env=False,
        )

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One request; the server's error as the ragops exception it names."""
        import httpx

        try:
            with self.client() as http:
                response = http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise errors.StoreError(
                f"the ragops server of this project at {self.url} did not answer "
                f"({exc.__class__.__name__}: {exc}); is it still running?"
            ) from exc
        if response.status_code >= 400:
            raise error_from_body(
                response.json().get("error") or {"message": f"HTTP {response.status_code}"}
            )
        return response.json()

    def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", f"/v1/indexes/{index}/search", body)
        return result

    def job(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Start a job (``POST path``) and follow it to its end; its result."""
        job = self.call("POST", path, body)
        deadline = time.monotonic() + JOB_TIMEOUT_SECONDS
        while job["state"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.2)
            job = self.call("GET", f"/v1/jobs/{job['id']}")
        if job["state"] != "succeeded":
            raise error_from_body(
                job.get("error") or {"message": f"job {job['id']} {job['state']}"}
            )
        result: dict[str, Any] = job["result"]
        return result

    def stage(self, index: str) -> Staging:
        """The pipeline's stage step, run by the server, its changes in the staging folder."""
        from ragops.pipeline import Staging

        return Staging(**self.job(f"/v1/indexes/{index}/stage"))

    def sync(
        self,
        index: str,
        *,
        staged: bool = False,
        allow_mass_delete: bool = False,
        full_listing: bool = False,
    ) -> SyncResult:
        """Start a sync job and follow it to its end (``staged``: build from the index's
        staging folder, as :func:`ragops.pipeline.build_staged`)."""
        body = {
            "staged": staged,
            "allow_mass_delete": allow_mass_delete,
            "full_listing": full_listing,
        }
        return sync_result(self.job(f"/v1/indexes/{index}/sync", body))

    def evaluate(self, index: str, version: int) -> Candidate:
        """The pipeline's evaluate step on ``version``, run by the server."""
        from ragops.pipeline import Candidate

        data = self.job(f"/v1/indexes/{index}/eval", {"version": version, "candidate": True})
        found = data["candidate"]
        return Candidate(index, found["version"], found["prompt"], found["prompt_sha256"])

    def release(self, verdict: Verdict) -> Promotion:
        """The pipeline's release step for ``verdict``, run by the server (which checks the
        gates again under the index's lease)."""
        candidate = verdict.candidate
        body = {
            "version": candidate.version, "env": verdict.env,
            "prompt": candidate.prompt_sha256, "automatic": True,
        }  # fmt: skip
        return self.promotion(candidate.index, "promote", body)

    def promotion(self, index: str, action: str, body: dict[str, Any]) -> Promotion:
        return promotion(self.call("POST", f"/v1/indexes/{index}/{action}", body))


def sync_result(data: dict[str, Any]) -> SyncResult:
    """A :class:`SyncResult` from its ``to_dict()`` (as the server sends it)."""
    from ragops.versions.sync import DocumentCounts, SyncResult

    return SyncResult(**{**data, "documents": DocumentCounts(**data["documents"])})


def promotion(data: dict[str, Any]) -> Promotion:
    """A :class:`Promotion` from its ``to_dict()`` (as the server sends it)."""
    from ragops.catalog import Hold
    from ragops.environments.gates import GateResult
    from ragops.environments.promotion import Promotion

    hold = data.get("hold")
    return Promotion(
        index=data["index"],
        env=data["environment"],
        action=data["action"],
        from_version=data["from_version"],
        to_version=data["to_version"],
        forced=data["forced"],
        prompt=data["prompt"],
        gates=[GateResult(**g) for g in data["gates"]],
        reason=data["reason"],
        hold=Hold(hold["by"], datetime.fromisoformat(hold["at"]), hold["reason"]) if hold else None,
    )
