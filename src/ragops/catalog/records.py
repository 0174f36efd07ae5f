"""What the catalog hands out: frozen records, one per kind of row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "DocumentState",
    "EvalRecord",
    "Generation",
    "Hold",
    "Pointer",
    "PointerMove",
    "VersionInfo",
]


@dataclass(frozen=True)
class Generation:
    """One index spec fingerprint: one physical collection, holding many versions."""

    id: int
    index_name: str
    fingerprint: str
    collection: str
    spec: dict[str, Any]
    dimension: int
    distance: str
    created_at: datetime
    #: A version whose points may be in the collection uncommitted (0: unknown, from before
    #: ragops 0.5): the next sync recovers first. None: nothing to recover.
    writing_version: int | None = None


@dataclass(frozen=True)
class VersionInfo:
    """One immutable, numbered version of an index."""

    index_name: str
    number: int
    generation_id: int
    created_at: datetime
    documents: int
    chunks: int
    stats: dict[str, Any]
    #: Set by retention, before it deletes the version's points; the row stays as history.
    pruned_at: datetime | None = None


@dataclass(frozen=True)
class DocumentState:
    """What a generation's newest version holds of one document."""

    source: str
    doc_id: str
    version_marker: str
    content_sha256: str | None
    status: str  # indexed | quarantined
    reason: str | None
    chunk_ids: tuple[str, ...]
    updated_version: int
    #: The Qdrant point of each chunk in ``chunk_ids`` (same order).
    point_ids: tuple[str, ...] = ()
    #: sha256 of what each chunk's payload takes from the document (metadata, ACL, filename);
    #: None for documents indexed before ragops 0.2.
    metadata_sha256: str | None = None


@dataclass(frozen=True)
class Hold:
    """Who holds a pointer against automatic promotion, since when, and why."""

    by: str
    at: datetime
    reason: str | None

    def describe(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return f"held by {self.by} since {self.at:%Y-%m-%d %H:%M} UTC{why}"

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "at": self.at.isoformat(timespec="seconds"), "reason": self.reason}


@dataclass(frozen=True)
class Pointer:
    """A named pointer: an index environment (target: a version) or a prompt alias (a sha)."""

    kind: str
    subject: str
    name: str
    target: str
    updated_at: datetime
    #: Set while automation may not move the pointer (``ragops hold``, or after a rollback).
    hold: Hold | None = None

    @property
    def version(self) -> int:
        """The target as an index version number (index environments only)."""
        return int(self.target)


@dataclass(frozen=True)
class PointerMove:
    """One entry of a pointer's history. ``action`` is ``promote`` or ``rollback`` (moves), or
    ``hold`` or ``release`` (the pointer stays; automation may not move it, or may again)."""

    kind: str
    subject: str
    name: str
    action: str
    from_target: str | None
    to_target: str
    forced: bool
    actor: str
    reason: str | None
    evidence: dict[str, Any]
    at: datetime

    @property
    def environment(self) -> str:
        return self.name

    @property
    def moved(self) -> bool:
        """True for a promotion or rollback; False for a hold or release."""
        return self.action in ("promote", "rollback")

    @property
    def from_version(self) -> int | None:
        return None if self.from_target is None else int(self.from_target)

    @property
    def to_version(self) -> int:
        return int(self.to_target)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "at": self.at.isoformat(timespec="seconds"),
            "pointer": self.name,
            "action": self.action,
            "from": self.from_target,
            "to": self.to_target,
            "forced": self.forced,
            "actor": self.actor,
            "reason": self.reason,
            "evidence": self.evidence,
        }
        if self.kind == "index":
            data["environment"] = data.pop("pointer")
            data["from_version"] = self.from_version
            data["to_version"] = self.to_version
            del data["from"], data["to"]
        return data


@dataclass(frozen=True)
class EvalRecord:
    """One stored eval run: what was measured, on what, and what the scores depend on."""

    id: int
    index: str
    version: int
    dataset: str
    dataset_sha256: str | None
    k: int
    metrics: dict[str, Any]
    report: dict[str, Any]
    seconds: float
    created_at: datetime
    prompt_sha256: str | None
    judge: str | None
    results_path: str | None
    usage: dict[str, Any] | None = field(default=None)
    #: How the eval searched (see :func:`ragops.ranking.retrieval_label`).
    retrieval: str = "dense"

    def to_dict(self) -> dict[str, Any]:
        return {
            "retrieval": self.retrieval,
            "id": self.id,
            "version": self.version,
            "dataset": self.dataset,
            "dataset_sha256": self.dataset_sha256,
            "k": self.k,
            "metrics": self.metrics,
            "seconds": self.seconds,
            "created_at": self.created_at.isoformat(),
            "report": self.report,
            "prompt_sha256": self.prompt_sha256,
            "judge": self.judge,
            "results_path": self.results_path,
            "usage": self.usage,
        }
