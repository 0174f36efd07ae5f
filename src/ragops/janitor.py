"""Retention: keep the last K versions plus whatever an environment needs; remove the rest.

A version is retained when it is among the newest ``retention.keep_versions`` of its index,
when an environment points at it, or when it is the version an environment would return to
on ``ragops rollback``. Every other version is pruned: points that no retained version can
see are deleted from Qdrant and from the chunk store, and the version's catalog row is marked
pruned (it stays in ``ragops versions`` and ``ragops history`` as a record). A generation with
no retained version left loses its whole collection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ragops.lifecycle import environment_stack

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

__all__ = ["JanitorReport", "collect_garbage", "retained_versions"]


@dataclass
class JanitorReport:
    index: str
    retained: list[int]
    pruned: list[int] = field(default_factory=list)
    points_deleted: int = 0
    collections_dropped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "retained": self.retained,
            "pruned": self.pruned,
            "points_deleted": self.points_deleted,
            "collections_dropped": self.collections_dropped,
        }


def retained_versions(project: Project, index: str) -> set[int]:
    """The versions retention keeps (see the module docstring).

    The newest version of a generation that keeps any version is kept too: the catalog's
    document states describe it, and the next sync of that generation builds on it.
    """
    keep = project.config.index(index).retention.keep_versions
    live = [v for v in project.catalog.versions(index) if v.pruned_at is None]
    retained = {v.number for v in live[-keep:]}
    for name, pointer in project.catalog.environments(index).items():
        retained.add(pointer.version)
        stack = environment_stack(project, index, name)
        if len(stack) >= 2:
            retained.add(stack[-2])
    heads: dict[int, int] = {}
    for v in live:
        heads[v.generation_id] = max(heads.get(v.generation_id, 0), v.number)
    for v in live:
        if v.number in retained:
            retained.add(heads[v.generation_id])
    return retained


def collect_garbage(project: Project, index: str) -> JanitorReport:
    """Prune every version retention does not keep. Holds the index's sync lock."""
    catalog = project.catalog
    with catalog.sync_lock(index):
        retained = retained_versions(project, index)
        report = JanitorReport(index, sorted(retained))
        versions = [v for v in catalog.versions(index) if v.pruned_at is None]
        doomed = [v.number for v in versions if v.number not in retained]
        if not doomed:
            return report
        for generation in catalog.generations(index):
            numbers = [v.number for v in versions if v.generation_id == generation.id]
            kept = sorted(n for n in numbers if n in retained)
            if not numbers:
                continue
            if not kept:
                project.store.drop_collection(generation.collection)
                project.chunk_store.drop(generation.collection)
                catalog.drop_generation_documents(generation.id)
                report.collections_dropped.append(generation.collection)
                continue
            report.points_deleted += _prune_points(project, generation.collection, kept)
        catalog.mark_pruned(index, doomed)
        report.pruned = doomed
    return report


def _prune_points(project: Project, collection: str, kept: list[int]) -> int:
    """Delete points that no kept version sees; return how many."""
    doomed, survivors = [], set()
    for point in project.store.scroll(collection):
        v_from, v_to = int(point.payload["v_from"]), int(point.payload["v_to"])
        if any(v_from <= n < v_to for n in kept):
            survivors.add(point.id)
        else:
            doomed.append(point.id)
    for start in range(0, len(doomed), 512):
        project.store.delete(collection, doomed[start : start + 512])
    project.chunk_store.prune(collection, survivors)
    return len(doomed)
