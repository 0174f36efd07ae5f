"""Prompt versions: immutable rows keyed by the sha256 of a prompt file's normalized content."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ragops.catalog.database import Database, aware, now
from ragops.catalog.schema import prompt_versions

__all__ = ["PromptRecord", "PromptVersions"]


@dataclass(frozen=True)
class PromptRecord:
    """One registered prompt version as stored (see ragops.llm.prompts.PromptVersion)."""

    name: str
    sha256: str
    number: int
    template: str
    variables: tuple[str, ...]
    description: str | None
    created_at: datetime
    #: The file (relative to the prompts folder) this content was first registered from.
    path: str
    content: str


class PromptVersions:
    def __init__(self, database: Database) -> None:
        self.database = database

    @staticmethod
    def insert_if_new(
        connection: Connection,
        *,
        name: str,
        sha256: str,
        path: str,
        content: str,
        template: str,
        variables: tuple[str, ...],
        description: str | None,
    ) -> PromptRecord | None:
        """Register a version inside ``connection``'s transaction; None when it exists."""
        exists = connection.execute(
            sa.select(prompt_versions.c.number).where(
                prompt_versions.c.name == name, prompt_versions.c.sha256 == sha256
            )
        ).first()
        if exists is not None:
            return None
        latest = connection.execute(
            sa.select(sa.func.max(prompt_versions.c.number)).where(prompt_versions.c.name == name)
        ).scalar()
        row = {
            "name": name,
            "sha256": sha256,
            "number": (latest or 0) + 1,
            "path": path,
            "content": content,
            "template": template,
            "variables_json": json.dumps(list(variables)),
            "description": description,
            "created_at": now(),
        }
        connection.execute(prompt_versions.insert().values(**row))
        return _record(row)

    def names(self) -> list[str]:
        """Every prompt with a registered version, sorted."""
        query = sa.select(prompt_versions.c.name).distinct().order_by(prompt_versions.c.name)
        with self.database.read() as connection:
            return [row[0] for row in connection.execute(query)]

    def of_prompt(self, name: str) -> list[PromptRecord]:
        """The versions of a prompt, oldest first."""
        query = (
            prompt_versions.select()
            .where(prompt_versions.c.name == name)
            .order_by(prompt_versions.c.number)
        )
        with self.database.read() as connection:
            return [_record(row) for row in connection.execute(query).mappings()]


def _record(row: Any) -> PromptRecord:
    return PromptRecord(
        name=row["name"],
        sha256=row["sha256"],
        number=row["number"],
        template=row["template"],
        variables=tuple(json.loads(row["variables_json"])),
        description=row["description"],
        created_at=aware(row["created_at"]),
        path=row["path"],
        content=row["content"],
    )
