"""The audit log (operator actions that bypass the normal path) and who is acting."""

from __future__ import annotations

import contextlib
import contextvars
import getpass
import json
import os
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Connection

from ragops.catalog.database import Database, aware, now
from ragops.catalog.schema import audit_log

__all__ = ["Audit", "acting_as", "current_actor"]

_acting_as: contextvars.ContextVar[str | None] = contextvars.ContextVar("acting_as", default=None)


@contextlib.contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Record ``actor`` as who acts, in this thread or task, while the block runs (the server
    names the API key a request came with)."""
    token = _acting_as.set(actor)
    try:
        yield
    finally:
        _acting_as.reset(token)


def current_actor() -> str:
    """Who is acting: the :func:`acting_as` block's actor, else ``$RAGOPS_ACTOR``, else the
    login name (the uid in bare containers)."""
    acting = _acting_as.get()
    if acting is not None:
        return acting
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = str(os.getuid())
    return os.environ.get("RAGOPS_ACTOR", user)


class Audit:
    def __init__(self, database: Database) -> None:
        self.database = database

    @staticmethod
    def record(
        connection: Connection, *, actor: str, action: str, subject: str, detail: dict[str, Any]
    ) -> None:
        """Append one entry, inside the caller's transaction (so it is atomic with the act)."""
        connection.execute(
            audit_log.insert().values(
                at=now(),
                actor=actor[:128],
                action=action,
                subject=subject,
                detail_json=json.dumps(detail, default=str),
            )
        )

    def entries(self, subject: str | None = None) -> list[dict[str, Any]]:
        query = audit_log.select()
        if subject is not None:
            query = query.where(audit_log.c.subject == subject)
        with self.database.read() as connection:
            rows = connection.execute(query.order_by(audit_log.c.id)).mappings().all()
        return [
            {
                "at": aware(row["at"]).isoformat(timespec="seconds"),
                "actor": row["actor"],
                "action": row["action"],
                "subject": row["subject"],
                "detail": json.loads(row["detail_json"]),
            }
            for row in rows
        ]
