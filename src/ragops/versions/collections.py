"""Collections made before ragops 0.2, renamed to carry their project's id.

Collections are named ``<index>__<fingerprint[:12]>__<project id>``
(:func:`ragops.versions.spec.collection_name`): two projects with an index ``docs`` on one Qdrant
server (or one embedded store folder) never share a collection, so neither project's crash
recovery or retention can touch the other's points. Collections made before ragops 0.2 were
named ``<index>__<fingerprint[:12]>``; the first sync of an index after the upgrade gives them
the new name (store, chunk store and catalog), under the index's lease.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

__all__ = ["adopt_legacy_collections"]


def adopt_legacy_collections(project: Project, index: str) -> list[tuple[str, str]]:
    """Rename the index's collections that lack the project id; return (old, new) pairs.

    Safe to repeat after a crash: a collection already moved in the store is only recorded in
    the catalog.
    """
    renamed = []
    for generation in project.catalog.generations.of_index(index):
        expected = project.collection_name(index, generation.fingerprint)
        old = generation.collection
        if old == expected:
            continue
        store = project.store
        if store.collection_exists(old) and not store.collection_exists(expected):
            store.rename_collection(old, expected)
        project.chunk_store.rename(old, expected)
        project.catalog.generations.rename_collection(generation.id, expected)
        renamed.append((old, expected))
    return renamed
