"""The chunk store: every point ever written, as Parquet deltas per generation.

``<data_dir>/chunks/<collection>/v00000005.parquet`` holds the points version 5 wrote (ids,
chunk ids, texts, metadata, vectors); ``v00000005.closed.parquet`` the point ids version 5
closed. Replaying the deltas up to version N gives exactly the points of version N, so a
collection can be rebuilt without re-embedding (disaster recovery, ``ragops export`` and
``ragops restore``, moving from the embedded engine to a Qdrant server).

Delta files are written to temporary names and renamed into place just before the catalog
commits the version; deltas above the committed head are discarded by the next sync.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ragops.store import OPEN, PointRecord, SparseVector

__all__ = ["ChunkStore", "DeltaWriter", "point_from_row", "point_row", "points_schema"]

_DELTA = re.compile(r"^v(\d{8})\.parquet$")
_CLOSED = re.compile(r"^v(\d{8})\.closed\.parquet$")


def points_schema(dimension: int) -> pa.Schema:
    """The Parquet schema of stored points (chunk store deltas and exports)."""
    return pa.schema(
        [
            ("id", pa.string()),
            ("chunk_id", pa.string()),
            ("doc_id", pa.string()),
            ("source", pa.string()),
            ("text", pa.string()),
            ("text_sha256", pa.string()),
            ("metadata_json", pa.string()),
            ("acl", pa.list_(pa.string())),
            ("v_from", pa.int64()),
            ("vector", pa.list_(pa.float32(), dimension)),
            # The BM25 vector (null in dense-only generations and in files of older releases).
            ("sparse_indices", pa.list_(pa.uint32())),
            ("sparse_values", pa.list_(pa.float32())),
        ]
    )


#: Columns read when vectors are not wanted.
_PAYLOAD_COLUMNS = ("id", "chunk_id", "doc_id", "source", "text", "text_sha256", "metadata_json",
                    "acl", "v_from")  # fmt: skip


_CLOSED_SCHEMA = pa.schema([("id", pa.string())])


class DeltaWriter:
    """Collects one version's writes and closes; :meth:`commit` puts them in place."""

    def __init__(self, folder: Path, number: int, dimension: int) -> None:
        self.folder = folder
        self.number = number
        self.schema = points_schema(dimension)
        self._writer: pq.ParquetWriter | None = None
        self._closed: list[str] = []
        self._tmp_points = folder / f".v{number:08d}.parquet.tmp"
        self._tmp_closed = folder / f".v{number:08d}.closed.parquet.tmp"

    def add(self, points: Sequence[PointRecord]) -> None:
        if not points:
            return
        if self._writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self._tmp_points, self.schema)
        rows = [point_row(p) for p in points]
        self._writer.write_table(pa.Table.from_pylist(rows, schema=self.schema))

    def close(self, ids: Sequence[str]) -> None:
        self._closed.extend(ids)

    def commit(self) -> None:
        """Rename the version's files into place (call right before the catalog commit)."""
        if self._writer is not None:
            self._writer.close()
            os.replace(self._tmp_points, self.folder / f"v{self.number:08d}.parquet")
        if self._closed:
            self.folder.mkdir(parents=True, exist_ok=True)
            table = pa.Table.from_pylist([{"id": i} for i in self._closed], schema=_CLOSED_SCHEMA)
            pq.write_table(table, self._tmp_closed)
            os.replace(self._tmp_closed, self.folder / f"v{self.number:08d}.closed.parquet")

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.close()
        for path in (self._tmp_points, self._tmp_closed):
            path.unlink(missing_ok=True)


class ChunkStore:
    """Parquet deltas of every generation under ``root`` (``<data_dir>/chunks``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, collection: str) -> Path:
        return self.root / collection

    def writer(self, collection: str, number: int, dimension: int) -> DeltaWriter:
        return DeltaWriter(self.folder(collection), number, dimension)

    def versions(self, collection: str) -> list[int]:
        folder = self.folder(collection)
        if not folder.is_dir():
            return []
        return sorted(int(m[1]) for p in folder.iterdir() if (m := _DELTA.match(p.name)))

    def discard_after(self, collection: str, head: int) -> int:
        """Delete deltas of versions above ``head`` (left by a sync that died); count them."""
        removed = 0
        folder = self.folder(collection)
        if not folder.is_dir():
            return 0
        for path in folder.iterdir():
            match = _DELTA.match(path.name) or _CLOSED.match(path.name)
            if (match and int(match[1]) > head) or path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def points(
        self, collection: str, version: int, with_vectors: bool = True
    ) -> Iterator[PointRecord]:
        """The points of ``version``, replayed from the deltas, with their current ``v_to``."""
        folder = self.folder(collection)
        closed_at = self._closed_at(folder)
        for path in sorted(folder.glob("v*.parquet")):
            match = _DELTA.match(path.name)
            if not match or int(match[1]) > version:
                continue
            columns = None if with_vectors else list(_PAYLOAD_COLUMNS)
            for row in pq.read_table(path, columns=columns).to_pylist():
                v_to = closed_at.get(row["id"], OPEN)
                if row["v_from"] <= version < v_to:
                    yield point_from_row(row, v_to)

    def prune(self, collection: str, kept: list[int]) -> int:
        """Rewrite the deltas without the points no version in ``kept`` sees; rows removed."""
        folder = self.folder(collection)
        if not folder.is_dir():
            return 0
        closed_at = self._closed_at(folder)
        removed = 0
        for path in sorted(folder.glob("v*.parquet")):
            if not _DELTA.match(path.name):
                continue
            table = pq.read_table(path)
            ids = table.column("id").to_pylist()
            starts = table.column("v_from").to_pylist()
            mask = [
                any(v_from <= n < closed_at.get(point, OPEN) for n in kept)
                for point, v_from in zip(ids, starts, strict=True)
            ]
            if all(mask):
                continue
            kept_rows = table.filter(pa.array(mask, type=pa.bool_()))
            removed += table.num_rows - kept_rows.num_rows
            temporary = path.with_name(f".{path.name}.tmp")
            pq.write_table(kept_rows, temporary)
            os.replace(temporary, path)
        return removed

    def drop(self, collection: str) -> None:
        shutil.rmtree(self.folder(collection), ignore_errors=True)

    @staticmethod
    def _closed_at(folder: Path) -> dict[str, int]:
        """Point id → the version that closed it (from the ``.closed`` deltas)."""
        closed_at: dict[str, int] = {}
        for path in sorted(folder.glob("v*.closed.parquet")):
            number = int(_CLOSED.match(path.name)[1])  # type: ignore[index]
            for point in pq.read_table(path).column("id").to_pylist():
                closed_at[point] = number
        return closed_at

    def rename(self, old: str, new: str) -> None:
        """Move a collection's deltas to the folder of its new name (no-op if none)."""
        source, target = self.folder(old), self.folder(new)
        if source.is_dir() and not target.exists():
            os.replace(source, target)


def point_row(point: PointRecord) -> dict[str, Any]:
    """A point as a row of :func:`points_schema`."""
    payload = point.payload
    return {
        "id": point.id,
        "chunk_id": payload["chunk_id"],
        "doc_id": payload["doc_id"],
        "source": payload.get("source", ""),
        "text": payload["text"],
        "text_sha256": payload.get("text_sha256", ""),
        "metadata_json": json.dumps(payload.get("metadata") or {}),
        "acl": list(payload.get("acl") or []),
        "v_from": payload["v_from"],
        "vector": list(point.vector),
        "sparse_indices": list(point.sparse.indices) if point.sparse is not None else None,
        "sparse_values": list(point.sparse.values) if point.sparse is not None else None,
    }


def point_from_row(row: dict[str, Any], v_to: int) -> PointRecord:
    """The point a row of :func:`points_schema` holds, with ``v_to`` set."""
    payload = {
        "chunk_id": row["chunk_id"],
        "doc_id": row["doc_id"],
        "source": row["source"],
        "text": row["text"],
        "text_sha256": row["text_sha256"],
        "metadata": json.loads(row["metadata_json"]),
        "acl": list(row["acl"] or []),
        "v_from": row["v_from"],
        "v_to": v_to,
    }
    indices = row.get("sparse_indices")
    sparse = (
        SparseVector(tuple(indices), tuple(row.get("sparse_values") or ()))
        if indices is not None
        else None
    )
    return PointRecord(
        id=row["id"], vector=list(row.get("vector") or []), payload=payload, sparse=sparse
    )
