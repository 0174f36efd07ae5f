"""Reading the query log back (``ragops queries``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ragops.queries.log import SCHEMA

__all__ = ["read_queries"]


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
