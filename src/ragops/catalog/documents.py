"""Documents of a generation: what its newest version was built from, for incremental sync."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ragops.catalog.database import Database
from ragops.catalog.generations import Generations
from ragops.catalog.records import DocumentState
from ragops.catalog.schema import documents
from ragops.catalog.source_memory import SourceMemories
from ragops.sources.incremental import SourceMemory

__all__ = ["Documents", "Fence", "KnownDocuments"]

#: Called first inside a write transaction; raises when this process lost the index's lease.
Fence = Callable[[Connection], None]


class Documents:
    def __init__(self, database: Database) -> None:
        self.database = database

    def states(self, generation_id: int, status: str | None = None) -> KnownDocuments:
        """(source, doc_id) → state, for one generation (optionally one status)."""
        query = sa.select(*_STATE_COLUMNS).where(documents.c.generation_id == generation_id)
        if status is not None:
            query = query.where(documents.c.status == status)
        with self.database.read() as connection:
            return KnownDocuments(connection.execute(query).all())

    def update(
        self,
        generation_id: int,
        changed: Sequence[DocumentState],
        fence: Fence | None = None,
        memories: Mapping[str, SourceMemory] | None = None,
    ) -> None:
        """Record document changes that need no new version (a touched but identical file),
        and what the connectors keep from the listing (``memories``), in one transaction;
        nothing of the generation waits for recovery after it (no point was written)."""
        with self.database.transaction() as connection:
            if fence is not None:
                fence(connection)
            self.write(connection, generation_id, changed, [])
            SourceMemories.write(connection, generation_id, memories or {})
            Generations.clear_writing(connection, generation_id)

    def drop_generation(self, generation_id: int) -> None:
        with self.database.transaction() as connection:
            connection.execute(documents.delete().where(documents.c.generation_id == generation_id))
            SourceMemories.drop(connection, generation_id)

    @staticmethod
    def write(
        connection: Connection,
        generation_id: int,
        changed: Sequence[DocumentState],
        deleted: Sequence[tuple[str, str]],
    ) -> None:
        """Replace the rows of ``changed`` and delete those of ``deleted``, in ``connection``."""
        for source, doc_id in [*deleted, *((s.source, s.doc_id) for s in changed)]:
            connection.execute(
                documents.delete().where(
                    documents.c.generation_id == generation_id,
                    documents.c.source == source,
                    documents.c.doc_id == doc_id,
                )
            )
        if changed:
            connection.execute(documents.insert(), [_row(generation_id, s) for s in changed])

    @staticmethod
    def totals(connection: Connection, generation_id: int) -> tuple[int, int]:
        """(documents recorded, documents indexed) of a generation."""
        indexed = sa.func.sum(sa.case((documents.c.status == "indexed", 1), else_=0))
        row = connection.execute(
            sa.select(sa.func.count(), sa.func.coalesce(indexed, 0)).where(
                documents.c.generation_id == generation_id
            )
        ).one()
        return int(row[0]), int(row[1])


def _row(generation_id: int, state: DocumentState) -> dict[str, Any]:
    return {
        "generation_id": generation_id,
        "source": state.source,
        "doc_id": state.doc_id,
        "version_marker": state.version_marker,
        "content_sha256": state.content_sha256,
        "status": state.status,
        "reason": state.reason,
        "chunk_ids_json": json.dumps(
            [list(pair) for pair in zip(state.chunk_ids, state.point_ids, strict=True)]
        ),
        "updated_version": state.updated_version,
        "metadata_sha256": state.metadata_sha256,
    }


class KnownDocuments(Mapping[tuple[str, str], DocumentState]):
    """(source, doc_id) → :class:`DocumentState` of a generation, each built from its catalog
    row when first looked up.

    Every sync reads all of a generation's rows but, when little changed, looks closely at
    few: a no-op sync of 100,000 documents only asks which keys exist.
    """

    def __init__(self, rows: Sequence[Any]) -> None:
        self._rows = {(row[0], row[1]): row for row in rows}
        self._states: dict[tuple[str, str], DocumentState] = {}

    def __getitem__(self, key: tuple[str, str]) -> DocumentState:
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = _state_of(*self._rows[key])
        return state

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


_STATE_COLUMNS = (
    documents.c.source,
    documents.c.doc_id,
    documents.c.version_marker,
    documents.c.content_sha256,
    documents.c.status,
    documents.c.reason,
    documents.c.chunk_ids_json,
    documents.c.updated_version,
    documents.c.metadata_sha256,
)


def _state_of(
    source: str, doc_id: str, version_marker: str, content_sha256: str | None, status: str,
    reason: str | None, chunk_ids_json: str, updated_version: int, metadata_sha256: str | None,
) -> DocumentState:  # fmt: skip
    chunk_ids, point_ids = _chunk_and_point_ids(chunk_ids_json)
    return DocumentState(
        source, doc_id, version_marker, content_sha256, status, reason, chunk_ids,
        updated_version, point_ids, metadata_sha256,
    )  # fmt: skip


def _chunk_and_point_ids(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(chunk ids, point ids) from ``[[chunk, point], ...]``; the first release stored a
    plain list of chunk ids, which were also the point ids."""
    items = json.loads(text)
    if not items:
        return (), ()
    if not isinstance(items[0], list):
        return tuple(items), tuple(items)
    chunk_ids, point_ids = zip(*items, strict=True)
    return chunk_ids, point_ids
