"""Generations: one per (index, spec fingerprint), each one physical collection."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ragops.catalog.database import Database, aware, now
from ragops.catalog.records import Generation
from ragops.catalog.schema import generations
from ragops.errors import CatalogError

__all__ = ["Generations"]

#: Called first inside a write transaction; raises when this process lost the index's lease.
Fence = Callable[[Connection], None]


class Generations:
    def __init__(self, database: Database) -> None:
        self.database = database

    def get_or_create(
        self,
        index_name: str,
        fingerprint: str,
        spec: dict[str, Any],
        dimension: int,
        distance: str,
        collection: str,
    ) -> Generation:
        """The generation of this fingerprint, created (named ``collection``) when new."""
        existing = self.by_fingerprint(index_name, fingerprint)
        if existing is not None:
            return existing
        try:
            with self.database.transaction() as connection:
                connection.execute(
                    generations.insert().values(
                        index_name=index_name,
                        fingerprint=fingerprint,
                        collection=collection,
                        spec_json=json.dumps(spec, sort_keys=True),
                        dimension=dimension,
                        distance=distance,
                        created_at=now(),
                    )
                )
        except sa.exc.IntegrityError:
            pass  # created meanwhile by another process: read it back
        created = self.by_fingerprint(index_name, fingerprint)
        if created is None:
            raise CatalogError(f"generation {fingerprint[:12]} of {index_name!r} vanished")
        return created

    def by_fingerprint(self, index_name: str, fingerprint: str) -> Generation | None:
        query = generations.select().where(
            generations.c.index_name == index_name, generations.c.fingerprint == fingerprint
        )
        with self.database.read() as connection:
            row = connection.execute(query).mappings().first()
        return _generation(row) if row else None

    def get(self, generation_id: int) -> Generation:
        query = generations.select().where(generations.c.id == generation_id)
        with self.database.read() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            raise CatalogError(f"generation {generation_id} is missing from the catalog")
        return _generation(row)

    def of_index(self, index_name: str) -> list[Generation]:
        query = (
            generations.select()
            .where(generations.c.index_name == index_name)
            .order_by(generations.c.id)
        )
        with self.database.read() as connection:
            return [_generation(row) for row in connection.execute(query).mappings()]

    def begin_writing(self, generation_id: int, number: int, fence: Fence | None = None) -> None:
        """Record that points of version ``number`` are about to be written (before the first
        one is): until the version commits, the next sync recovers before anything else."""
        with self.database.transaction() as connection:
            if fence is not None:
                fence(connection)
            connection.execute(
                generations.update()
                .where(generations.c.id == generation_id)
                .values(writing_version=number)
            )

    def end_writing(self, generation_id: int, fence: Fence | None = None) -> None:
        """Record that nothing of the generation waits for recovery (it was recovered, or
        nothing was written)."""
        with self.database.transaction() as connection:
            if fence is not None:
                fence(connection)
            self.clear_writing(connection, generation_id)

    @staticmethod
    def clear_writing(connection: Connection, generation_id: int) -> None:
        """In ``connection``: nothing waits for recovery (the version committing is whole)."""
        connection.execute(
            generations.update()
            .where(generations.c.id == generation_id)
            .values(writing_version=None)
        )

    def rename_collection(self, generation_id: int, collection: str) -> None:
        """Record that the generation's collection now has the name ``collection``."""
        with self.database.transaction() as connection:
            connection.execute(
                generations.update()
                .where(generations.c.id == generation_id)
                .values(collection=collection)
            )


def _generation(row: Any) -> Generation:
    return Generation(
        id=row["id"],
        index_name=row["index_name"],
        fingerprint=row["fingerprint"],
        collection=row["collection"],
        spec=json.loads(row["spec_json"]),
        dimension=row["dimension"],
        distance=row["distance"],
        created_at=aware(row["created_at"]),
        writing_version=row["writing_version"],
    )
