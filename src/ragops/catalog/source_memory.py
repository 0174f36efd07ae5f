"""What connectors keep between syncs (cursors and state), per source of a generation.

Read when a sync opens its generation; written in the transaction that commits the version
built from the listing (or records its document states), so a sync that fails or is fenced off
never moves a cursor. See :mod:`ragops.sources.incremental`.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import Connection

from ragops.catalog.database import Database, now
from ragops.catalog.schema import source_memory
from ragops.sources.incremental import SourceMemory

__all__ = ["SourceMemories"]


class SourceMemories:
    def __init__(self, database: Database) -> None:
        self.database = database

    def of_generation(self, generation_id: int) -> dict[str, SourceMemory]:
        """source → what its connector kept, for one generation (empty when none)."""
        query = source_memory.select().where(source_memory.c.generation_id == generation_id)
        with self.database.read() as connection:
            rows = connection.execute(query).mappings().all()
        return {row["source"]: SourceMemory.from_json(row["memory_json"]) for row in rows}

    @staticmethod
    def write(
        connection: Connection, generation_id: int, memories: Mapping[str, SourceMemory]
    ) -> None:
        """Replace the memory of each source in ``memories`` (an empty one is removed)."""
        for source, memory in memories.items():
            connection.execute(
                source_memory.delete().where(
                    source_memory.c.generation_id == generation_id,
                    source_memory.c.source == source,
                )
            )
            if not memory.is_empty():
                connection.execute(
                    source_memory.insert().values(
                        generation_id=generation_id,
                        source=source,
                        memory_json=memory.to_json(),
                        updated_at=now(),
                    )
                )

    @staticmethod
    def drop(connection: Connection, generation_id: int) -> None:
        connection.execute(
            source_memory.delete().where(source_memory.c.generation_id == generation_id)
        )
