"""Versions: numbered, immutable versions of an index. A version becomes visible to readers
only when its row is committed, in the same transaction that records its documents."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from ragops.catalog.database import Database, aware, now
from ragops.catalog.documents import Documents, Fence
from ragops.catalog.generations import Generations
from ragops.catalog.records import DocumentState, VersionInfo
from ragops.catalog.schema import versions
from ragops.catalog.source_memory import SourceMemories
from ragops.errors import IndexNotFoundError
from ragops.sources.incremental import SourceMemory

__all__ = ["Versions"]


class Versions:
    def __init__(self, database: Database) -> None:
        self.database = database

    def of_index(self, index_name: str) -> list[VersionInfo]:
        """Every version of the index, pruned ones included, oldest first."""
        query = (
            versions.select().where(versions.c.index_name == index_name).order_by(versions.c.number)
        )
        with self.database.read() as connection:
            return [_version(row) for row in connection.execute(query).mappings()]

    def live(self, index_name: str) -> list[VersionInfo]:
        """The versions retention has not pruned, oldest first."""
        return [v for v in self.of_index(index_name) if v.pruned_at is None]

    def get(self, index_name: str, number: int) -> VersionInfo:
        """Version ``number``; IndexNotFoundError when it does not exist or was pruned."""
        query = versions.select().where(
            versions.c.index_name == index_name, versions.c.number == number
        )
        with self.database.read() as connection:
            row = connection.execute(query).mappings().first()
        if row is not None and row["pruned_at"] is not None:
            raise IndexNotFoundError(
                f"version {number} of {index_name!r} was removed by retention on "
                f"{aware(row['pruned_at']):%Y-%m-%d %H:%M} UTC (indexes.{index_name}.retention); "
                "it can no longer be searched or promoted"
            )
        if row is None:
            known = [v.number for v in self.live(index_name)]
            hint = f"versions: {', '.join(map(str, known))}" if known else "run `ragops sync` first"
            raise IndexNotFoundError(f"index {index_name!r} has no version {number}; {hint}")
        return _version(row)

    def latest(self, index_name: str, generation_id: int | None = None) -> VersionInfo | None:
        """The newest live version (of one generation, if given)."""
        query = versions.select().where(
            versions.c.index_name == index_name, versions.c.pruned_at.is_(None)
        )
        if generation_id is not None:
            query = query.where(versions.c.generation_id == generation_id)
        query = query.order_by(versions.c.number.desc()).limit(1)
        with self.database.read() as connection:
            row = connection.execute(query).mappings().first()
        return _version(row) if row else None

    def next_number(self, index_name: str) -> int:
        query = sa.select(sa.func.max(versions.c.number)).where(versions.c.index_name == index_name)
        with self.database.read() as connection:
            current = connection.execute(query).scalar()
        return (current or 0) + 1

    def commit(
        self,
        index_name: str,
        number: int,
        generation_id: int,
        changed: Sequence[DocumentState],
        deleted: Sequence[tuple[str, str]],
        stats: dict[str, Any],
        fence: Fence | None = None,
        memories: Mapping[str, SourceMemory] | None = None,
    ) -> VersionInfo:
        """Record version ``number``, its document changes and what the connectors keep from
        the listing (``memories``: cursors and state) in one transaction.

        ``fence`` runs first in the transaction: a sync whose lease was taken over commits
        nothing.
        """
        with self.database.transaction() as connection:
            if fence is not None:
                fence(connection)
            Documents.write(connection, generation_id, changed, deleted)
            SourceMemories.write(connection, generation_id, memories or {})
            Generations.clear_writing(connection, generation_id)
            _, indexed = Documents.totals(connection, generation_id)
            connection.execute(
                versions.insert().values(
                    index_name=index_name,
                    number=number,
                    generation_id=generation_id,
                    created_at=now(),
                    documents=indexed,
                    chunks=int(stats.get("chunks", 0)),
                    stats_json=json.dumps(stats, sort_keys=True),
                )
            )
        return self.get(index_name, number)

    def mark_pruned(
        self, index_name: str, numbers: Sequence[int], fence: Fence | None = None
    ) -> None:
        """Record that retention removes these versions (before it deletes their points)."""
        if not numbers:
            return
        with self.database.transaction() as connection:
            if fence is not None:
                fence(connection)
            connection.execute(
                versions.update()
                .where(versions.c.index_name == index_name, versions.c.number.in_(list(numbers)))
                .values(pruned_at=now())
            )


def _version(row: Any) -> VersionInfo:
    return VersionInfo(
        index_name=row["index_name"],
        number=row["number"],
        generation_id=row["generation_id"],
        created_at=aware(row["created_at"]),
        documents=row["documents"],
        chunks=row["chunks"],
        stats=json.loads(row["stats_json"]),
        pruned_at=aware(row["pruned_at"]) if row["pruned_at"] else None,
    )
