"""Running the app on uvicorn, and telling other processes where it listens.

While it runs, ``<data_dir>/server.json`` holds its URL and process id (see
:mod:`ragops.discovery`); it is removed when the server stops.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ragops.discovery import announce_server, forget_server
from ragops.errors import ConfigError
from ragops.tracing import configure_tracing, shutdown_tracing

if TYPE_CHECKING:  # pragma: no cover
    from ragops.config import ProjectConfig

__all__ = ["serve"]


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
    data_dir = project.config.data_path
    configure_tracing(project.config)
    try:
        shown = f"[{host}]" if ":" in host else host
        token = announce_server(data_dir, f"http://{shown}:{port}")
        app = create_app(project, local_token=token)
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="info", access_log=False)
        )
        server.run()
    finally:
        forget_server(data_dir)
        project.close()
        shutdown_tracing()
