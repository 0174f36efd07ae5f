"""API keys in the catalog: stored by public id with the sha256 of their secret, never the
secret. Creating and revoking a key is recorded in the audit log in the same transaction."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ragops.catalog.audit import Audit
from ragops.catalog.database import Database, aware, now
from ragops.catalog.schema import api_keys

__all__ = ["TOUCH_EVERY_SECONDS", "ApiKeyRecord", "ApiKeys"]

#: How stale a key's ``last_used_at`` may be (see :meth:`ApiKeys.touch`).
TOUCH_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class ApiKeyRecord:
    """One API key as stored: who it acts as and what it may do (no secret)."""

    key_id: str
    secret_sha256: str
    name: str | None
    principals: tuple[str, ...]
    scope: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    last_used_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def to_dict(self) -> dict[str, Any]:
        """Everything but the secret's hash."""

        def when(value: datetime | None) -> str | None:
            return value.isoformat(timespec="seconds") if value is not None else None

        return {
            "key_id": self.key_id,
            "name": self.name,
            "principals": list(self.principals),
            "scope": self.scope,
            "created_at": when(self.created_at),
            "created_by": self.created_by,
            "revoked_at": when(self.revoked_at),
            "revoked_by": self.revoked_by,
            "last_used_at": when(self.last_used_at),
        }


class ApiKeys:
    def __init__(self, database: Database) -> None:
        self.database = database
        #: When this process last wrote each key's ``last_used_at`` (monotonic seconds).
        self._touched: dict[str, float] = {}

    def add(self, record: ApiKeyRecord) -> None:
        with self.database.transaction() as connection:
            connection.execute(
                api_keys.insert().values(
                    key_id=record.key_id,
                    secret_sha256=record.secret_sha256,
                    name=record.name,
                    principals_json=json.dumps(list(record.principals)),
                    scope=record.scope,
                    created_at=record.created_at,
                    created_by=record.created_by[:128],
                )
            )
            Audit.record(
                connection,
                actor=record.created_by,
                action="key_create",
                subject=f"key:{record.key_id}",
                detail={"name": record.name, "principals": list(record.principals),
                        "scope": record.scope},
            )  # fmt: skip

    def get(self, key_id: str) -> ApiKeyRecord | None:
        def load() -> ApiKeyRecord | None:
            with self.database.read() as connection:
                row = connection.execute(
                    api_keys.select().where(api_keys.c.key_id == key_id)
                ).mappings().first()  # fmt: skip
            return _record(row) if row is not None else None

        return self.database.cache.get(("api_key", key_id), load)

    def all(self) -> list[ApiKeyRecord]:
        """Every key, revoked ones included, oldest first."""
        with self.database.read() as connection:
            rows = connection.execute(
                api_keys.select().order_by(api_keys.c.created_at, api_keys.c.key_id)
            ).mappings().all()  # fmt: skip
        return [_record(row) for row in rows]

    def revoke(self, key_id: str, *, actor: str, reason: str | None) -> ApiKeyRecord | None:
        """Mark the key revoked (its row stays); None when it was already revoked."""
        with self.database.transaction() as connection:
            done = connection.execute(
                api_keys.update()
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now(), revoked_by=actor[:128])
            )
            if not done.rowcount:
                return None
            Audit.record(
                connection, actor=actor, action="key_revoke", subject=f"key:{key_id}",
                detail={"reason": reason},
            )  # fmt: skip
        return self.get(key_id)

    def touch(self, key_id: str) -> None:
        """Record that the key was just used (``last_used_at``, to the minute: a key used
        again within :data:`TOUCH_EVERY_SECONDS` of its last write is not written again, so a
        busy key does not take the catalog's write lock on every request)."""
        moment = time.monotonic()
        last = self._touched.get(key_id)
        if last is not None and moment - last < TOUCH_EVERY_SECONDS:
            return
        self._touched[key_id] = moment
        with self.database.transaction() as connection:
            connection.execute(
                sa.update(api_keys).where(api_keys.c.key_id == key_id).values(last_used_at=now())
            )


def _record(row: Any) -> ApiKeyRecord:
    def maybe(value: datetime | None) -> datetime | None:
        return aware(value) if value is not None else None

    return ApiKeyRecord(
        key_id=row["key_id"],
        secret_sha256=row["secret_sha256"],
        name=row["name"],
        principals=tuple(json.loads(row["principals_json"])),
        scope=row["scope"],
        created_at=aware(row["created_at"]),
        created_by=row["created_by"],
        revoked_at=maybe(row["revoked_at"]),
        revoked_by=row["revoked_by"],
        last_used_at=maybe(row["last_used_at"]),
    )
