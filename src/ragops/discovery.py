"""Where a project's running server is: ``<data_dir>/server.json``, written by ``ragops serve``
while it runs (its URL and process id) and removed when it stops. Other processes of the
project (the CLI, Dagster) read it to find the server."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["SERVER_FILE", "forget_server", "running_server", "announce_server"]

SERVER_FILE = "server.json"


def running_server(data_dir: Path) -> dict[str, Any] | None:
    """What a running server of this project wrote (None: no server, or it has died)."""
    path = data_dir / SERVER_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return dict(info)


def announce_server(data_dir: Path, url: str) -> Path:
    """Write ``server.json`` for this process (atomically)."""
    path = data_dir / SERVER_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    info = {"url": url, "pid": os.getpid(), "started_at": datetime.now(UTC).isoformat()}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(info), encoding="utf-8")
    temporary.replace(path)
    return path


def forget_server(data_dir: Path) -> None:
    """Remove ``server.json`` if this process wrote it."""
    path = data_dir / SERVER_FILE
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass
