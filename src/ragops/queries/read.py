"""Reading the query log back (``ragops queries``)."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ragops.queries.log import SCHEMA

__all__ = ["QueryLogSummary", "read_queries", "summarize_queries"]


def read_queries(
    folder: Path,
    *,
    index: str | None = None,
    since: timedelta | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The logged queries (of ``index``, within ``since``), oldest first; at most the newest
    ``limit``."""
    cutoff = datetime.now(UTC) - since if since is not None else None
    files = []
    for day in sorted(folder.glob("day=*")):
        if cutoff is not None and day.name[4:] < cutoff.strftime("%Y-%m-%d"):
            continue  # the whole day is older than the cutoff
        files.extend(sorted(p for p in day.glob("*.parquet")))
    rows: list[dict[str, Any]] = []
    for path in files:
        table = pq.read_table(path, schema=SCHEMA)
        for row in table.to_pylist():
            if index is not None and row["index"] != index:
                continue
            if cutoff is not None and row["at"] < cutoff:
                continue
            rows.append(row)
    rows.sort(key=lambda row: row["at"])
    return rows[-limit:] if limit else rows


@dataclass(frozen=True)
class QueryLogSummary:
    """The query log at a glance (the Dagster asset ``queries/log`` reports this)."""

    folder: str
    files: int
    bytes: int
    days: int
    newest_day: str | None
    #: Changes exactly when rows were added (files are written once and never appended to).
    data_version: str
    window_hours: float
    #: Within the window: queries, by index and by kind, and the latency of the searches.
    recent: int = 0
    recent_by_index: dict[str, int] = field(default_factory=dict)
    recent_by_kind: dict[str, int] = field(default_factory=dict)
    recent_p50_ms: float | None = None
    recent_p95_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize_queries(folder: Path, window: timedelta = timedelta(hours=24)) -> QueryLogSummary:
    """Files, size and days of the log in ``folder``, and the queries of the last ``window``."""
    files = sorted(folder.glob("day=*/*.parquet"))
    sizes = [(path.relative_to(folder).as_posix(), path.stat().st_size) for path in files]
    digest = hashlib.sha256("\n".join(f"{name} {size}" for name, size in sizes).encode())
    days = sorted({path.parent.name[4:] for path in files})
    recent = read_queries(folder, since=window)
    latencies = sorted(r["total_ms"] for r in recent if r["total_ms"] is not None)
    return QueryLogSummary(
        folder=str(folder),
        files=len(files),
        bytes=sum(size for _, size in sizes),
        days=len(days),
        newest_day=days[-1] if days else None,
        data_version=digest.hexdigest()[:16],
        window_hours=window.total_seconds() / 3600,
        recent=len(recent),
        recent_by_index=dict(Counter(r["index"] for r in recent)),
        recent_by_kind=dict(Counter(r["kind"] for r in recent)),
        recent_p50_ms=_percentile(latencies, 0.50),
        recent_p95_ms=_percentile(latencies, 0.95),
    )


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return round(float(ordered[min(len(ordered) - 1, int(q * len(ordered)))]), 3)
