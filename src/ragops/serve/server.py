"""Running the app on uvicorn, and telling other processes where it listens.

While it runs, ``<data_dir>/server.json`` holds its URL and process id, so the CLI and Dagster
of the same project can find it; it is removed when the server stops.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragops.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from ragops.config import ProjectConfig

__all__ = ["SERVER_FILE", "read_server_file", "serve"]

SERVER_FILE = "server.json"


def serve(
    config: str | Path | ProjectConfig | None, host: str = "127.0.0.1", port: int = 8080
) -> None:
    """Open the project and serve it until SIGINT or SIGTERM (uvicorn's graceful shutdown:
    requests in flight finish, the running job finishes, then the project is closed)."""
    import uvicorn

    from ragops.project import Project
    from ragops.serve.app import create_app

    if not 0 < port < 65536:
        raise ConfigError(f"--port {port}: use a port between 1 and 65535")
    project = Project.open(config)
    marker = project.config.data_path / SERVER_FILE
    try:
        app = create_app(project)
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False)
        )
        shown = f"[{host}]" if ":" in host else host
        _write_server_file(marker, f"http://{shown}:{port}")
        server.run()
    finally:
        _remove_server_file(marker)
        project.close()


def read_server_file(data_dir: Path) -> dict[str, Any] | None:
    """What a running server of this project wrote (None: no server, or it died)."""
    path = data_dir / SERVER_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return dict(info)


def _write_server_file(path: Path, url: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    info = {"url": url, "pid": os.getpid(), "started_at": datetime.now(UTC).isoformat()}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(info), encoding="utf-8")
    temporary.replace(path)


def _remove_server_file(path: Path) -> None:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        if info.get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass
