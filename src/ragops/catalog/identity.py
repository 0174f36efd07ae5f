"""The project a catalog belongs to: a stable id, created once, that names its collections."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from ragops.catalog.database import Database, now
from ragops.catalog.schema import project
from ragops.errors import ConfigError

__all__ = ["ProjectIdentity"]


class ProjectIdentity:
    def __init__(self, database: Database) -> None:
        self.database = database

    def ensure(self, name: str) -> str:
        """The project id, created for project ``name`` on first use.

        A catalog holds one project: opening it with another ``project:`` name is a
        ConfigError (two projects sharing a catalog would share every index name).
        """
        for _ in range(3):
            with self.database.read() as connection:
                row = connection.execute(sa.select(project.c.id, project.c.name)).first()
            if row is not None:
                if row.name != name:
                    raise ConfigError(
                        f"project = {name!r}, but the catalog at {self.database.safe_url} "
                        f"belongs to project {row.name!r} (id {row.id}); give this project its "
                        "own catalog (catalog.url or data_dir), or set `project:` back to "
                        f"{row.name!r}"
                    )
                return str(row.id)
            try:
                with self.database.transaction() as connection:
                    connection.execute(
                        project.insert().values(
                            id=uuid.uuid4().hex[:8], name=name, created_at=now()
                        )
                    )
            except sa.exc.IntegrityError:
                continue  # another process created it meanwhile
        raise ConfigError(f"could not record the project in {self.database.safe_url}")
