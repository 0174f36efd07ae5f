"""What a sync records of each document: the counts it reports, and the document state each
parsed outcome leaves once its points are queued (:func:`apply_outcome`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ragops.catalog import DocumentState
from ragops.chunks import point_id
from ragops.versions.prepare import DocumentOutcome
from ragops.versions.writer import PointWriter

__all__ = ["DocumentCounts", "apply_outcome", "count_renames", "with_version"]


@dataclass
class DocumentCounts:
    seen: int = 0
    new: int = 0
    changed: int = 0
    deleted: int = 0
    renamed: int = 0
    unchanged: int = 0
    quarantined: int = 0


def apply_outcome(
    outcome: DocumentOutcome,
    previous: DocumentState | None,
    writer: PointWriter,
    next_number: int,
    head_number: int,
    counts: DocumentCounts,
) -> DocumentState:
    """Queue one document's point writes and closes; return its new state."""
    listed = outcome.listed
    document = listed.document
    if previous is None:
        counts.new += 1
    elif outcome.status == "touched":
        counts.unchanged += 1
    else:
        counts.changed += 1
    base: dict[str, Any] = {
        "source": listed.source,
        "doc_id": document.doc_id,
        "version_marker": document.version,
        "metadata_sha256": listed.metadata_sha256,
    }
    if outcome.status == "touched":
        assert previous is not None
        return DocumentState(
            **base,
            content_sha256=previous.content_sha256,
            status=previous.status,
            reason=previous.reason,
            chunk_ids=previous.chunk_ids,
            point_ids=previous.point_ids,
            updated_version=previous.updated_version,
        )
    if outcome.status == "quarantined":
        # The last good chunks of a document stay served; nothing is lost to a bad edit.
        return DocumentState(
            **{**base, "metadata_sha256": previous.metadata_sha256 if previous else None},
            content_sha256=outcome.content_sha256,
            status="quarantined",
            reason=outcome.reason,
            chunk_ids=previous.chunk_ids if previous else (),
            point_ids=previous.point_ids if previous else (),
            updated_version=previous.updated_version if previous else head_number,
        )
    # A kept chunk keeps its point only while its payload is the same: same text (its id) and
    # same document fields. Otherwise it gets a new point (the vector comes from the cache).
    same_payload = previous is not None and previous.metadata_sha256 == listed.metadata_sha256
    live = (
        dict(zip(previous.chunk_ids, previous.point_ids, strict=True))
        if previous is not None and same_payload
        else {}
    )
    points = [live.get(chunk.id) or point_id(chunk.id, next_number) for chunk in outcome.chunks]
    writer.add(
        [(c, p) for c, p in zip(outcome.chunks, points, strict=True) if c.id not in live],
        acl=document.acl,
    )
    kept = set(points)
    writer.close([p for p in (previous.point_ids if previous else ()) if p not in kept])
    return DocumentState(
        **base,
        content_sha256=outcome.content_sha256,
        status="indexed",
        reason=None,
        chunk_ids=tuple(chunk.id for chunk in outcome.chunks),
        point_ids=tuple(points),
        updated_version=-1,
    )


def count_renames(
    counts: DocumentCounts,
    states: list[DocumentState],
    known: Mapping[tuple[str, str], DocumentState],
    deleted: list[tuple[str, str]],
) -> None:
    """A deleted document and a new one of the same source and content are one rename."""
    gone = {(known[key].source, known[key].content_sha256): key for key in deleted}
    for state in states:
        if (state.source, state.doc_id) in known or state.status != "indexed":
            continue
        if gone.pop((state.source, state.content_sha256), None) is not None:
            counts.renamed += 1
            counts.new -= 1
            counts.deleted -= 1


def with_version(state: DocumentState, number: int) -> DocumentState:
    """``state`` with the version that wrote it filled in (-1 marks "this sync's version")."""
    return replace(
        state, updated_version=number if state.updated_version == -1 else state.updated_version
    )
