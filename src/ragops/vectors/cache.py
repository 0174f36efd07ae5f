"""The embedding cache: identical chunk text under the same model is embedded once.

Keyed by ``sha256(text)`` in one SQLite file per model fingerprint
(``<data_dir>/cache/embeddings/<fingerprint[:16]>.sqlite``), so it spans documents, versions,
generations and indexes that share a model. A rename, a revert, or a chunker change that
leaves most chunk texts equal costs lookups, not model calls. Vectors are stored as float32
bytes exactly as the model returned them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

__all__ = ["EmbeddingCache"]

_BATCH = 500  # SQLite's default limit on host parameters is 999


class EmbeddingCache:
    """Vectors by text hash for one model. Thread-safe; safe across processes (SQLite WAL)."""

    def __init__(self, folder: Path, model_fingerprint: str, dimension: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{model_fingerprint[:16]}.sqlite"
        self.dimension = dimension
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS vectors "
            "(text_sha256 TEXT PRIMARY KEY, vector BLOB NOT NULL)"
        )
        self._connection.commit()

    def get_many(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``hashes``."""
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(wanted), _BATCH):
                part = wanted[start : start + _BATCH]
                marks = ",".join("?" * len(part))
                rows = self._connection.execute(
                    f"SELECT text_sha256, vector FROM vectors WHERE text_sha256 IN ({marks})", part
                )
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape[0] == self.dimension:
                        found[key] = vector
        return found

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None:
        rows = [(key, np.asarray(v, dtype=np.float32).tobytes()) for key, v in vectors.items()]
        with self._lock:
            self._connection.executemany(
                "INSERT OR REPLACE INTO vectors (text_sha256, vector) VALUES (?, ?)", rows
            )
            self._connection.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._connection.execute("SELECT count(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._connection.close()
