"""``ragops export`` and ``ragops restore``: move an index version without re-embedding.

An export is a folder with ``manifest.json`` (index, version, spec fingerprint, dimension,
distance, the documents' states) and ``points.parquet`` (every point of the version with its
vector), read from the chunk store. A restore writes those points into *one project*, its
store and its catalog together, as a new version of the same generation: the index can be
rebuilt after losing the Qdrant files, or moved to another project, e.g. one whose
``store.url`` is a Qdrant server (``ragops --config server.yaml restore PATH``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa
import pyarrow.parquet as pq

from ragops.catalog import INDEX, DocumentState
from ragops.chunks import point_id
from ragops.errors import IndexNotFoundError, RagopsError
from ragops.store import OPEN, Distance, PointRecord
from ragops.versions.chunk_store import point_from_row, point_row, points_schema

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

__all__ = ["ExportSummary", "RestoreSummary", "export_index", "restore_index"]

FORMAT = 1
_BATCH = 512


@dataclass(frozen=True)
class ExportSummary:
    index: str
    version: int
    points: int
    path: str
    seconds: float


@dataclass(frozen=True)
class RestoreSummary:
    index: str
    restored_from_version: int
    version: int
    points: int
    collection: str
    seconds: float


def export_index(
    project: Project, index: str, path: Path, version: int | None = None
) -> ExportSummary:
    """Write ``version`` (default: production, else the newest) of ``index`` to ``path``."""
    started = time.perf_counter()
    catalog = project.catalog
    project.config.index(index)
    if version is None:
        pointer = catalog.pointers.get(INDEX, index, "production")
        latest = catalog.versions.latest(index)
        if pointer is None and latest is None:
            raise IndexNotFoundError(f"index {index!r} has no version to export; run `ragops sync`")
        version = pointer.version if pointer else latest.number  # type: ignore[union-attr]
    info = catalog.versions.get(index, version)
    generation = catalog.generations.get(info.generation_id)
    points = list(project.chunk_store.points(generation.collection, version))
    if len(points) != info.chunks:
        raise RagopsError(
            f"the chunk store of {generation.collection} holds {len(points)} points of version "
            f"{version}, the catalog expects {info.chunks}; export a version built by this "
            "ragops release (or re-sync with a new `stamp` to rebuild the generation)"
        )
    path.mkdir(parents=True, exist_ok=True)
    head = catalog.versions.latest(index, generation.id)
    documents = (
        [_state_to_json(s) for s in catalog.documents.states(generation.id).values()]
        if head is not None and head.number == version
        else None  # an older version: document states are derived from the points on restore
    )
    manifest = {
        "format": FORMAT,
        "index": index,
        "version": version,
        "fingerprint": generation.fingerprint,
        "spec": generation.spec,
        "dimension": generation.dimension,
        "distance": generation.distance,
        "points": len(points),
        "documents": documents,
        "sparse_avg_len": info.stats.get("sparse_avg_len"),
    }
    (path / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    _write_points(path / "points.parquet", points, generation.dimension)
    return ExportSummary(index, version, len(points), str(path), time.perf_counter() - started)


def restore_index(project: Project, path: Path) -> RestoreSummary:
    """Load an export into ``project`` (its store and its catalog) as a new version.

    The index must be declared in the project's ragops.yaml. The new version holds exactly
    the exported points; nothing is embedded. Holds the index's lease.
    """
    started = time.perf_counter()
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise RagopsError(f"{path} is not a ragops export (no manifest.json); use `ragops export`")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise RagopsError(f"{path}: export format {manifest.get('format')} is not supported")
    index = manifest["index"]
    project.config.index(index)
    rows = pq.read_table(path / "points.parquet").to_pylist()
    catalog, store = project.catalog, project.store
    with project.hold(index, "restore") as lease:
        generation = catalog.generations.get_or_create(
            index,
            manifest["fingerprint"],
            manifest["spec"],
            manifest["dimension"],
            manifest["distance"],
            collection=project.collection_name(index, manifest["fingerprint"]),
        )
        collection = generation.collection
        store.create_collection(
            collection,
            generation.dimension,
            cast(Distance, generation.distance),
            sparse=generation.spec.get("sparse") is not None,
        )
        head = catalog.versions.latest(index, generation.id)
        head_number = head.number if head else 0
        store.rollback_uncommitted(collection, head_number)
        project.chunk_store.discard_after(collection, head_number)
        number = catalog.versions.next_number(index)
        live = [p.id for p in store.scroll(collection, head_number)] if head else []
        catalog.generations.begin_writing(generation.id, number, fence=lease.fence)
        delta = project.chunk_store.writer(collection, number, generation.dimension)
        points = [_point(row, number) for row in rows]
        for start in range(0, len(points), _BATCH):
            lease.check()
            store.upsert(collection, points[start : start + _BATCH])
            delta.add(points[start : start + _BATCH])
        if live:
            store.set_v_to(collection, live, number)
            delta.close(live)
        states = _documents(manifest, points, number)
        delta.commit()
        previous = catalog.documents.states(generation.id)
        restored = {(s.source, s.doc_id) for s in states}
        catalog.versions.commit(
            index,
            number,
            generation.id,
            states,
            [key for key in previous if key not in restored],
            {
                "chunks": len(points),
                "restored_from": {"version": manifest["version"], "path": str(path)},
                **(
                    {"sparse_avg_len": manifest["sparse_avg_len"]}
                    if manifest.get("sparse_avg_len") is not None
                    else {}
                ),
            },
            fence=lease.fence,
        )
    return RestoreSummary(
        index, manifest["version"], number, len(points), collection, time.perf_counter() - started
    )


def _write_points(path: Path, points: list[PointRecord], dimension: int) -> None:
    rows = [point_row(p) for p in points]
    pq.write_table(pa.Table.from_pylist(rows, schema=points_schema(dimension)), path)


def _point(row: dict[str, Any], number: int) -> PointRecord:
    """An exported point as a new point of version ``number`` (new id, ``v_from``)."""
    point = point_from_row(row, OPEN)
    payload = {**point.payload, "v_from": number}
    return PointRecord(
        id=point_id(row["chunk_id"], number), vector=point.vector, payload=payload,
        sparse=point.sparse,
    )  # fmt: skip


def _documents(
    manifest: dict[str, Any], points: list[PointRecord], number: int
) -> list[DocumentState]:
    """Document states for the restored version, with the new point ids."""
    by_doc: dict[tuple[str, str], list[PointRecord]] = {}
    for point in points:
        by_doc.setdefault((point.payload["source"], point.payload["doc_id"]), []).append(point)
    exported = {(d["source"], d["doc_id"]): d for d in manifest.get("documents") or []}
    states = []
    for key in sorted(set(by_doc) | set(exported)):
        doc_points = by_doc.get(key, [])
        known = exported.get(key)
        states.append(
            DocumentState(
                source=key[0],
                doc_id=key[1],
                # Unknown markers make the next sync read (not re-embed) each document once.
                version_marker=known["version_marker"] if known else "restored",
                content_sha256=known["content_sha256"] if known else None,
                status=known["status"] if known else "indexed",
                reason=known["reason"] if known else None,
                metadata_sha256=known.get("metadata_sha256") if known else None,
                chunk_ids=tuple(p.payload["chunk_id"] for p in doc_points),
                point_ids=tuple(p.id for p in doc_points),
                updated_version=number,
            )
        )
    return states


def _state_to_json(state: DocumentState) -> dict[str, Any]:
    return {
        "source": state.source,
        "doc_id": state.doc_id,
        "version_marker": state.version_marker,
        "content_sha256": state.content_sha256,
        "status": state.status,
        "reason": state.reason,
        "metadata_sha256": state.metadata_sha256,
    }
