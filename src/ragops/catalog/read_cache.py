"""Reads remembered until the catalog changes, for the lookups every search makes (the
caller's API key, the environment's pointer).

SQLite tells cheaply whether anything changed: ``PRAGMA data_version`` on a connection that
never writes changes whenever any other connection, in this process or another, commits. A
cached read is reused only while that number stays the same, so a promotion or a revoked key
is seen by the very next read, as without the cache. Other databases (PostgreSQL) offer no
such counter: there every read goes to the database.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

__all__ = ["ReadCache"]

T = TypeVar("T")

#: Entries kept at most (a caller sending random key ids cannot grow the cache without bound).
MAX_ENTRIES = 4096


class ReadCache:
    """``get(key, load)``: ``load()``, or what it returned before if the catalog has not
    changed since (see the module docstring). Thread-safe."""

    def __init__(self, sqlite_path: str | None) -> None:
        #: The SQLite file watched for changes; None: no cache (every ``get`` loads).
        self.sqlite_path = sqlite_path
        self._watch: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._entries: dict[Hashable, object] = {}
        self._seen: int | None = None

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        changes = self._changes()
        if changes is None:
            return load()
        with self._lock:
            if changes != self._seen:
                self._entries.clear()
                self._seen = changes
            if key in self._entries:
                return self._entries[key]  # type: ignore[return-value]
        # Loaded after ``changes`` was read: at least as new as that state. A commit in
        # between changes the counter, so the next get loads again.
        value = load()
        with self._lock:
            if self._seen == changes:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = value
        return value

    def _changes(self) -> int | None:
        if self.sqlite_path is None:
            return None
        with self._lock:
            if self._watch is None:
                self._watch = sqlite3.connect(
                    self.sqlite_path, check_same_thread=False, isolation_level=None
                )
            row = self._watch.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
            self._entries.clear()
