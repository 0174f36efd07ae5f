"""Where a project's running server is: ``<data_dir>/server.json``, written by ``ragops serve``
while it runs (its URL and process id) and removed when it stops, and ``server.token``, a
secret readable by the server's user only: whoever can read the project's files may act as an
admin through the server (the same trust as opening those files directly). The CLI of the
project reads both to go through the server instead of opening the store itself."""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "SERVER_FILE",
    "TOKEN_FILE",
    "announce_server",
    "forget_server",
    "local_token",
    "running_server",
]

SERVER_FILE = "server.json"
TOKEN_FILE = "server.token"


def running_server(data_dir: Path) -> dict[str, Any] | None:
    """What a running server of this project wrote (None: no server, or it has died)."""
    path = data_dir / SERVER_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return dict(info)


def local_token(data_dir: Path) -> str | None:
    """The running server's local token (None when there is none this process may read)."""
    try:
        return (data_dir / TOKEN_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def announce_server(data_dir: Path, url: str) -> str:
    """Write ``server.json`` and a new ``server.token`` (mode 0600) for this process; the
    token."""
    path = data_dir / SERVER_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    token_path = data_dir / TOKEN_FILE
    token_path.unlink(missing_ok=True)
    descriptor = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token)
    info = {"url": url, "pid": os.getpid(), "started_at": datetime.now(UTC).isoformat()}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(info), encoding="utf-8")
    temporary.replace(path)
    return token


def forget_server(data_dir: Path) -> None:
    """Remove ``server.json`` and ``server.token`` if this process wrote them."""
    path = data_dir / SERVER_FILE
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
            (data_dir / TOKEN_FILE).unlink(missing_ok=True)
    except (OSError, ValueError):
        pass
