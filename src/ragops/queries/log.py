"""Writing the query log: records buffered in memory and written as one Parquet file per
flush, in the partition of their day (a file is never appended to, so readers never see a
half-written one)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["SCHEMA", "QueryLog", "QueryRecord", "reader_of"]

SCHEMA = pa.schema(
    [
        ("at", pa.timestamp("ms", tz="UTC")),
        ("kind", pa.string()),  # search | ask
        ("face", pa.string()),  # library | cli | server
        ("index", pa.string()),
        ("env", pa.string()),
        ("version", pa.int64()),
        ("principal", pa.string()),
        ("query", pa.string()),
        ("query_sha256", pa.string()),
        ("k", pa.int32()),
        ("filters_json", pa.string()),
        ("doc_ids", pa.list_(pa.string())),
        ("chunk_ids", pa.list_(pa.string())),
        ("scores", pa.list_(pa.float32())),
        ("embed_ms", pa.float32()),
        ("search_ms", pa.float32()),
        ("generate_ms", pa.float32()),
        ("total_ms", pa.float32()),
        ("input_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("cost", pa.float64()),
        ("prompt_sha256", pa.string()),
        ("error", pa.string()),
        # how hits were ranked: dense | sparse | hybrid-dbsf | hybrid-rrf, then /<field> when
        # grouped (hybrid-dbsf/doc_id), as eval evidence names it; null before ragops 0.5
        ("retrieval", pa.string()),
    ]
)

#: A buffer is written once it holds this many rows or its oldest row is this old.
FLUSH_ROWS = 500
FLUSH_SECONDS = 2.0


@dataclass
class QueryRecord:
    """One search or ask, as the log keeps it."""

    kind: str
    index: str
    query: str
    k: int
    env: str | None = None
    version: int | None = None
    face: str = "library"
    principal: str | None = None
    filters: dict[str, Any] | None = None
    doc_ids: list[str] = field(default_factory=list)
    chunk_ids: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    embed_ms: float | None = None
    search_ms: float | None = None
    generate_ms: float | None = None
    total_ms: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None
    prompt_sha256: str | None = None
    error: str | None = None
    #: How hits were ranked (see SCHEMA), e.g. ``hybrid-dbsf`` or ``dense/doc_id``.
    retrieval: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


def reader_of(principals: Sequence[str] | None) -> str:
    """Who reads, as the log names them: the principals searched for, else the local user
    (a search without principals reads every document, as that user)."""
    from ragops.catalog import current_actor

    return ", ".join(principals) if principals is not None else f"local:{current_actor()}"


class QueryLog:
    """Where one process records queries (thread-safe). ``text``: how the query text is kept
    (``full``, ``hash``, ``none``)."""

    def __init__(self, folder: Path, *, text: str = "full") -> None:
        self.folder = folder
        self.text = text
        self._rows: list[dict[str, Any]] = []
        self._oldest = 0.0
        self._lock = threading.Lock()

    def record(self, record: QueryRecord) -> None:
        digest = hashlib.sha256(record.query.encode("utf-8")).hexdigest()
        row = {
            "at": record.at,
            "kind": record.kind,
            "face": record.face,
            "index": record.index,
            "env": record.env,
            "version": record.version,
            "principal": record.principal,
            "query": record.query if self.text == "full" else None,
            "query_sha256": digest if self.text != "none" else None,
            "k": record.k,
            "filters_json": json.dumps(record.filters, sort_keys=True) if record.filters else None,
            "doc_ids": list(record.doc_ids),
            "chunk_ids": list(record.chunk_ids),
            "scores": [float(s) for s in record.scores],
            "embed_ms": record.embed_ms,
            "search_ms": record.search_ms,
            "generate_ms": record.generate_ms,
            "total_ms": record.total_ms,
            "input_tokens": record.input_tokens,
            "output_tokens": record.output_tokens,
            "cost": record.cost,
            "prompt_sha256": record.prompt_sha256,
            "error": record.error,
            "retrieval": record.retrieval,
        }
        with self._lock:
            if not self._rows:
                self._oldest = time.monotonic()
            self._rows.append(row)
            due = len(self._rows) >= FLUSH_ROWS or time.monotonic() - self._oldest > FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> int:
        """Write what is buffered (one file per day it spans); the rows written."""
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        by_day: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_day.setdefault(row["at"].strftime("%Y-%m-%d"), []).append(row)
        for day, part in by_day.items():
            folder = self.folder / f"day={day}"
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{int(time.time() * 1000)}-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
            temporary = folder / f".{name}.tmp"
            pq.write_table(pa.Table.from_pylist(part, schema=SCHEMA), temporary)
            temporary.replace(folder / name)
        return len(rows)
