"""Staged changes: parsed and chunked documents waiting to be embedded, in memory or on disk.

The pipeline's stage step (the Dagster ``chunks`` asset) stages an index's changes; its build
step (``index_version``) builds the version from them without parsing again. Staging is a folder
``<data_dir>/staging/<index>/`` with ``manifest.json`` (the plan) and ``outcomes.parquet``
(one row per changed document, its chunks nested), replaced atomically. A staged set is only
used when it still matches the index's generation and head version; otherwise the build
starts afresh, so stale staging can cost time but never correctness.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ragops.chunks import Chunk
from ragops.sources import SourceDocument, SourceMemory
from ragops.versions.plan import ListedDocument, Plan
from ragops.versions.prepare import DocumentOutcome

__all__ = ["StagedChanges", "clear_staged", "read_staged", "staging_dir", "write_staged"]

FORMAT = 2


@dataclass
class StagedChanges:
    """Parsed and chunked changes of one index, waiting to be embedded."""

    plan: Plan
    outcomes: list[DocumentOutcome]
    seconds: float = 0.0

    def matches(self, fingerprint: str, head_number: int) -> bool:
        """True while the index's generation and head are those the changes were staged on."""
        return self.plan.fingerprint == fingerprint and self.plan.head_number == head_number

    @property
    def chunk_count(self) -> int:
        return sum(len(o.chunks) for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        by_status = {"indexed": 0, "touched": 0, "quarantined": 0}
        for outcome in self.outcomes:
            by_status[outcome.status] += 1
        return {
            "seen": len(self.plan.seen),
            "candidates": len(self.plan.candidates),
            "deleted": len(self.plan.deleted),
            "unchanged": self.plan.unchanged,
            "parsed": by_status["indexed"],
            "touched": by_status["touched"],
            "quarantined": by_status["quarantined"],
            "chunks": self.chunk_count,
        }


_CHUNK = pa.struct(
    [
        ("id", pa.string()),
        ("ordinal", pa.int32()),
        ("text", pa.string()),
        ("metadata_json", pa.string()),
    ]
)
_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("doc_id", pa.string()),
        ("version_marker", pa.string()),
        ("filename", pa.string()),
        ("mime_type", pa.string()),
        ("metadata_json", pa.string()),
        ("acl", pa.list_(pa.string())),
        ("metadata_sha256", pa.string()),
        ("status", pa.string()),
        ("content_sha256", pa.string()),
        ("reason", pa.string()),
        ("chunks", pa.list_(_CHUNK)),
    ]
)


def staging_dir(data_dir: Path, index_name: str) -> Path:
    return data_dir / "staging" / index_name


def write_staged(folder: Path, staged: StagedChanges) -> None:
    """Write ``staged`` to ``folder``, replacing what was there in one rename."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    plan = staged.plan
    manifest = {
        "format": FORMAT,
        "fingerprint": plan.fingerprint,
        "head_number": plan.head_number,
        "seen": plan.seen,
        "deleted": plan.deleted,
        "unchanged": plan.unchanged,
        "candidates": [_listed_row(item) for item in plan.candidates],
        "memories": {source: m.to_json() for source, m in plan.memories.items()},
        "seconds": staged.seconds,
    }
    (temporary / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    rows = [_outcome_row(outcome) for outcome in staged.outcomes]
    table = pa.Table.from_pylist(rows, schema=_SCHEMA)
    pq.write_table(table, temporary / "outcomes.parquet")
    if folder.exists():
        retired = folder.with_name(f".{folder.name}-retired-{os.getpid()}")
        os.replace(folder, retired)
        os.replace(temporary, folder)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(temporary, folder)


def read_staged(folder: Path) -> StagedChanges | None:
    """The staged changes in ``folder``, or None when there are none (or in an old format)."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        return None
    candidates = [_listed_from(row) for row in manifest["candidates"]]
    plan = Plan(
        fingerprint=manifest["fingerprint"],
        head_number=manifest["head_number"],
        seen=[tuple(key) for key in manifest["seen"]],  # type: ignore[misc]
        candidates=candidates,
        deleted=[tuple(key) for key in manifest["deleted"]],  # type: ignore[misc]
        unchanged=manifest["unchanged"],
        memories={
            source: SourceMemory.from_json(saved)
            for source, saved in manifest.get("memories", {}).items()
        },
    )
    outcomes = [
        _outcome_from(row) for row in pq.read_table(folder / "outcomes.parquet").to_pylist()
    ]
    return StagedChanges(plan, outcomes, manifest.get("seconds", 0.0))


def clear_staged(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _not_loadable() -> bytes:
    raise RuntimeError("a staged document's content is not kept; re-run the chunks step")


def _listed_row(item: ListedDocument) -> dict[str, Any]:
    document = item.document
    return {
        "source": item.source,
        "doc_id": document.doc_id,
        "version_marker": document.version,
        "filename": document.filename,
        "mime_type": document.mime_type,
        "metadata_json": json.dumps(dict(document.metadata)),
        "acl": list(document.acl),
        "metadata_sha256": item.metadata_sha256,
    }


def _listed_from(row: dict[str, Any]) -> ListedDocument:
    return ListedDocument(
        row["source"],
        SourceDocument(
            doc_id=row["doc_id"],
            version=row["version_marker"],
            filename=row["filename"],
            load=_not_loadable,
            mime_type=row["mime_type"],
            metadata=json.loads(row["metadata_json"]),
            acl=tuple(row["acl"] or ()),
        ),
        row["metadata_sha256"],
    )


def _outcome_row(outcome: DocumentOutcome) -> dict[str, Any]:
    return {
        **_listed_row(outcome.listed),
        "status": outcome.status,
        "content_sha256": outcome.content_sha256,
        "reason": outcome.reason,
        "chunks": [
            {
                "id": c.id,
                "ordinal": c.ordinal,
                "text": c.text,
                "metadata_json": json.dumps(c.metadata),
            }
            for c in outcome.chunks
        ],
    }


def _outcome_from(row: dict[str, Any]) -> DocumentOutcome:
    listed = _listed_from(row)
    chunks = [
        Chunk(
            id=c["id"],
            source=listed.source,
            doc_id=listed.document.doc_id,
            ordinal=c["ordinal"],
            text=c["text"],
            metadata=json.loads(c["metadata_json"]),
        )
        for c in row["chunks"] or []
    ]
    return DocumentOutcome(listed, row["status"], row["content_sha256"], chunks, row["reason"])
