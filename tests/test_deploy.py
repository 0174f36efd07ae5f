"""docker-compose.yml and the Dockerfile stay consistent with the repository (no Docker
engine runs here, so they are checked by reading, and by `docker-compose config` when the
CLI is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ragops.config import load_config

REPO = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_runs_qdrant_postgres_and_dagster_webserver_and_daemon() -> None:
    services = _compose()["services"]
    assert {"qdrant", "postgres", "dagster-webserver", "dagster-daemon"} <= set(services)
    webserver = services["dagster-webserver"]
    assert webserver["command"][0] == "dagster-webserver"
    assert services["dagster-daemon"]["command"][:2] == ["dagster-daemon", "run"]


def test_compose_runs_two_stateless_ragops_serve_replicas() -> None:
    services = _compose()["services"]
    replicas = [s for s in services.values() if s.get("command", [])[:2] == ["ragops", "serve"]]
    assert len(replicas) == 2
    assert {r["ports"][0].split(":")[0] for r in replicas} == {"8081", "8082"}
    for replica in replicas:
        assert replica["command"][2:] == ["--host", "0.0.0.0", "--port", "8080"]
        assert replica["environment"]["RAGOPS_CONFIG"] == "/app/deploy/ragops.compose.yaml"


def test_compose_project_config_points_at_the_services_and_is_valid() -> None:
    environment = _compose()["x-ragops"]["environment"]
    config_path = REPO / environment["RAGOPS_CONFIG"].removeprefix("/app/")
    config = load_config(config_path)
    assert config.store.url == "http://qdrant:6333"
    assert (
        config.catalog_url().startswith("postgresql+psycopg://")
        and "@postgres:" in config.catalog_url()
    )


def test_every_file_the_dockerfile_and_compose_mount_exists() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (REPO / source).exists(), f"Dockerfile copies missing {source}"
    for service in _compose()["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"compose mounts missing {source}"
    workspace = yaml.safe_load((REPO / "deploy" / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["module_name"] == "dagster_defs"
    assert re.search(
        r"telemetry:\s*\n\s*enabled: false", (REPO / "deploy" / "dagster.yaml").read_text()
    )


@pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose CLI not installed"
)
def test_docker_compose_config_accepts_the_file() -> None:
    result = subprocess.run(
        ["docker-compose", "config", "-q"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
