"""Retention: keep the last K versions plus whatever an environment needs; remove the rest.

A version is retained when it is among the newest ``retention.keep_versions`` of its index,
when an environment points at it, or when it is the version an environment would return to
on ``ragops rollback``. Every other version is pruned, holding the index's lease (so no
promotion or rollback can pick a version while it goes):

1. the versions are marked pruned in the catalog (from then on nothing can search or promote
   them; the rows stay as history);
2. points that no retained version can see are deleted from Qdrant and the chunk store;
3. a generation with no retained version left loses its collection and its document rows.

Every step repeats safely: a janitor killed half way leaves versions marked pruned whose
points the next run deletes, and a dropped collection whose rows the next run removes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ragops._faults import checkpoint
from ragops.catalog import INDEX, Lease

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
    catalog = project.catalog
    keep = project.config.index(index).retention.keep_versions
    live = catalog.versions.live(index)
    retained = {v.number for v in live[-keep:]}
    for name, pointer in catalog.pointers.of_subject(INDEX, index).items():
        retained.add(pointer.version)
        stack = catalog.pointers.stack(INDEX, index, name)
        if len(stack) >= 2:
            retained.add(int(stack[-2].to_target))
    heads: dict[int, int] = {}
    for v in live:
        heads[v.generation_id] = max(heads.get(v.generation_id, 0), v.number)
    for v in live:
        if v.number in retained:
            retained.add(heads[v.generation_id])
    return retained


def collect_garbage(project: Project, index: str, *, lease: Lease | None = None) -> JanitorReport:
    """Prune every version retention does not keep, holding the index's lease."""
    with project.hold(index, "retention", lease) as held:
        return _collect(project, index, held)


def _collect(project: Project, index: str, lease: Lease) -> JanitorReport:
    catalog = project.catalog
    retained = retained_versions(project, index)
    report = JanitorReport(index, sorted(retained))
    doomed = [v.number for v in catalog.versions.live(index) if v.number not in retained]
    catalog.versions.mark_pruned(index, doomed, fence=lease.fence)
    report.pruned = doomed
    checkpoint("after_mark_pruned")
    live = catalog.versions.live(index)
    for generation in catalog.generations.of_index(index):
        kept = sorted(v.number for v in live if v.generation_id == generation.id)
        if not kept:
            if project.store.collection_exists(generation.collection):
                lease.check()
                project.store.drop_collection(generation.collection)
                report.collections_dropped.append(generation.collection)
                checkpoint("after_drop_collection")
            project.chunk_store.drop(generation.collection)
            catalog.documents.drop_generation(generation.id)
        else:
            report.points_deleted += _prune_points(project, generation.collection, kept, lease)
    return report


def _prune_points(project: Project, collection: str, kept: list[int], lease: Lease) -> int:
    """Delete the points no kept version sees (closed before the oldest, or living only
    between two kept versions); return how many."""
    deleted = 0
    previous: int | None = None
    for number in kept:
        lease.check()
        deleted += project.store.delete_closed(collection, previous, number)
        previous = number
    checkpoint("after_delete_points")
    if deleted:
        # Rows left by a run killed here are harmless (a replay only takes visible points)
        # and go with the next prune.
        project.chunk_store.prune(collection, kept)
    return deleted
