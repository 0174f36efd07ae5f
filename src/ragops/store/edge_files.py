"""The embedded store's own files beside qdrant-edge's: the process lock and the aliases.

``<path>/.lock`` is an exclusive ``flock`` that records its holder (PID, command, since), so a
second process gets a :class:`~ragops.errors.StoreLockedError` naming who holds the store and
the remedy instead of qdrant-edge's WAL traceback. ``<path>/aliases.json`` maps alias to
collection (qdrant-edge has neither collections nor aliases) and is replaced atomically.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import tempfile
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ragops.errors import StoreError, StoreLockedError

__all__ = [
    "ALIASES_FILE",
    "LOCK_FILE",
    "LOCK_REMEDY",
    "ProcessLock",
    "read_aliases",
    "write_aliases",
]

LOCK_FILE = ".lock"
ALIASES_FILE = "aliases.json"
LOCK_REMEDY = (
    "wait for it to finish, or point `store.url` in ragops.yaml at a Qdrant server for "
    "concurrent access"
)


def _own_command_line() -> str:
    """This process's command line, for the lock file (truncated to 500 characters)."""
    try:
        raw = Path("/proc/self/cmdline").read_bytes()
        cmd = " ".join(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)
    except OSError:
        cmd = " ".join([sys.executable, *sys.argv])
    return " ".join(cmd.split())[:500]  # one line, even for `python -c "<script>"`


class ProcessLock:
    """An exclusive ``flock`` on ``<path>/.lock`` that records who holds it.

    flock locks belong to the open file, so a second open in the same process conflicts too,
    and the kernel releases the lock when the holder dies (no stale locks).
    """

    def __init__(self, fd: int, lock_path: Path) -> None:
        self.lock_path = lock_path
        # Closing the file releases the lock: on release(), or when a store is dropped unclosed.
        self._finalizer = weakref.finalize(self, os.close, fd)
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, store_dir: Path) -> ProcessLock:
        lock_path = store_dir / LOCK_FILE
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(
                f"Cannot open the lock file {lock_path} of the embedded vector store: "
                f"{exc.strerror}. Fix: make {store_dir} writable, or set store.path in "
                "ragops.yaml to a writable directory."
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_holder(fd)
            os.close(fd)
            raise StoreLockedError(_locked_message(store_dir, holder)) from None
        info = {
            "pid": os.getpid(),
            "command": _own_command_line(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode("utf-8"), 0)
        return cls(fd, lock_path)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        self._finalizer()


def _read_holder(fd: int) -> dict[str, Any]:
    """What the current holder wrote into the lock file (may be empty while it starts)."""
    try:
        raw = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
    except OSError:
        return {}
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {"command": raw}
    return data if isinstance(data, dict) else {"command": raw}


def _locked_message(store_dir: Path, holder: Mapping[str, Any]) -> str:
    pid = holder.get("pid")
    if pid == os.getpid():
        who = (
            f"this same process (PID {pid}) through another EdgeStore; close that one first or "
            "share one instance"
        )
    elif pid is not None:
        command = str(holder.get("command", "?"))
        command = command if len(command) <= 200 else command[:199] + "…"
        who = f"another process, PID {pid} (`{command}`"
        who += f", since {holder['since']})" if holder.get("since") else ")"
    else:
        who = "another process (it did not record its PID yet)"
    return (
        f"The embedded vector store at {store_dir} is in use by {who}. The embedded store "
        f"(qdrant-edge) allows one process at a time. Fix: {LOCK_REMEDY}."
    )


def read_aliases(store_dir: Path) -> dict[str, str]:
    """The aliases file of the store at ``store_dir`` ({} when there is none)."""
    path = store_dir / ALIASES_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise StoreError(
            f"Cannot read the aliases file {path}: {exc}. Fix: repair or delete it "
            "(aliases are set again at the next promotion)."
        ) from None
    if not isinstance(data, dict):
        raise StoreError(f"The aliases file {path} is not a JSON object. Fix: delete it.")
    return {str(k): str(v) for k, v in data.items()}


def write_aliases(store_dir: Path, aliases: Mapping[str, str]) -> None:
    """Replace aliases.json atomically (temp file in the same directory + os.replace)."""
    path = store_dir / ALIASES_FILE
    fd, tmp = tempfile.mkstemp(prefix=".aliases.", suffix=".tmp", dir=store_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(dict(sorted(aliases.items())), fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StoreError(
            f"Cannot write the aliases file {path}: {exc}. Fix: check the disk and permissions."
        ) from None
    with contextlib.suppress(OSError):  # make the rename durable
        dir_fd = os.open(store_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
