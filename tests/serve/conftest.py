"""A real ``ragops serve`` on loopback, in its own process, over a built project."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import ragops
from ragops.access import create_key
from ragops.project import Project
from tests.conftest import write_project


@dataclass
class Server:
    url: str
    config: Path
    keys: dict[str, str]  # scope -> key
    key_ids: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, scope: str | None = "read") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[scope]}"} if scope else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60, trust_env=False)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def follow(client: httpx.Client, job: dict, timeout: float = 120) -> dict:
    """The job once it has finished (``client`` polls ``/v1/jobs/{id}``)."""
    deadline = time.monotonic() + timeout
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"job not finished in {timeout} s: {job}"
        time.sleep(0.1)
        job = client.get(f"/v1/jobs/{job['id']}").json()
    return job


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    config: Path,
    keys: dict[str, str],
    key_ids: dict[str, str],
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """``ragops serve`` of the project ``config`` on a free loopback port, ready (models
    warm), stopped with SIGTERM afterwards (``env``: extra environment variables)."""
    port = free_port()
    log = config.parent.parent / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ragops.cli", "--config", str(config), "serve",
             "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, cwd=config.parent,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
    running = Server(f"http://127.0.0.1:{port}", config, keys, key_ids, process, log)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, running.output()
            try:
                if httpx.get(f"{running.url}/readyz", trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "not ready in 120 s:\n" + running.output()
            time.sleep(0.3)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


def make_keys(
    project: Project, principals: dict[str, list[str]]
) -> tuple[dict[str, str], dict[str, str]]:
    """One key per scope (``principals``: scope -> the key's principals)."""
    keys, key_ids = {}, {}
    for scope, who in principals.items():
        created = create_key(project.catalog, who, scope)
        keys[scope], key_ids[scope] = created.key, created.record.key_id
    return keys, key_ids


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """Version 1 of index ``docs`` (a public source) built and promoted; keys of each scope;
    the server up and ready."""
    config = write_project(tmp_path / "project", public=True)
    with Project.open(config) as project:
        ragops.sync(project)
        ragops.promote(project, "docs", 1)
        keys, key_ids = make_keys(
            project,
            {
                "read": ["user:reader", "group:eng"],
                "write": ["user:writer", "group:eng"],
                "admin": ["user:admin", "group:eng"],
            },
        )
    with running_server(config, keys, key_ids) as running:
        yield running
