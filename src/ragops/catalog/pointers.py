"""Named pointers with a history: one mechanism for index environments and prompt aliases.

A pointer is (kind, subject, name) → target: ``("index", "docs", "production") → "7"`` (a
version) or ``("prompt", "answer", "production") → <sha256>``. Every move is appended to the
history with actor, reason and evidence; rollback pops the pointer's stack (the targets it
went through, each rollback removing the newest).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection

from ragops.catalog.database import Database, aware, now
from ragops.catalog.records import Hold, Pointer, PointerMove
from ragops.catalog.schema import pointer_history, pointers
from ragops.errors import PromotionError

__all__ = ["INDEX", "PROMPT", "Pointers"]

INDEX = "index"
PROMPT = "prompt"

#: ``expected_from`` default: move whatever the pointer holds now.
_ANY = object()


class Pointers:
    def __init__(self, database: Database) -> None:
        self.database = database

    def get(self, kind: str, subject: str, name: str) -> Pointer | None:
        return self.of_subject(kind, subject).get(name)

    def of_subject(self, kind: str, subject: str) -> dict[str, Pointer]:
        """name → pointer, for every pointer of one index or prompt, sorted by name."""

        def load() -> dict[str, Pointer]:
            query = (
                pointers.select()
                .where(pointers.c.kind == kind, pointers.c.subject == subject)
                .order_by(pointers.c.name)
            )
            with self.database.read() as connection:
                return {row["name"]: _pointer(row) for row in connection.execute(query).mappings()}

        return dict(self.database.cache.get(("pointers", kind, subject), load))

    def move(
        self,
        kind: str,
        subject: str,
        name: str,
        to_target: str,
        *,
        action: str,
        actor: str,
        reason: str | None = None,
        forced: bool = False,
        evidence: dict[str, Any] | None = None,
        expected_from: str | None | object = _ANY,
        connection: Connection | None = None,
    ) -> PointerMove:
        """Point ``name`` at ``to_target`` and record the move, in one transaction.

        ``expected_from`` (when given) must equal the current target, or the move is refused
        with PromotionError: two operators cannot silently overwrite each other. Pass
        ``connection`` to make the move part of a larger transaction.
        """
        with self._connection(connection) as conn:
            current = (
                conn.execute(
                    pointers.select()
                    .where(
                        pointers.c.kind == kind,
                        pointers.c.subject == subject,
                        pointers.c.name == name,
                    )
                    .with_for_update()
                )
                .mappings()
                .first()
            )
            from_target = current["target"] if current else None
            if expected_from is not _ANY and expected_from != from_target:
                raise PromotionError(
                    f"{kind} {subject!r} {name!r} moved to {from_target} while this change "
                    f"expected {expected_from}; look at its history and try again"
                )
            at = now()
            if current:
                conn.execute(
                    pointers.update()
                    .where(
                        pointers.c.kind == kind,
                        pointers.c.subject == subject,
                        pointers.c.name == name,
                    )
                    .values(target=to_target, updated_at=at)
                )
            else:
                conn.execute(
                    pointers.insert().values(
                        kind=kind, subject=subject, name=name, target=to_target, updated_at=at
                    )
                )
            move = PointerMove(
                kind=kind,
                subject=subject,
                name=name,
                action=action,
                from_target=from_target,
                to_target=to_target,
                forced=forced,
                actor=actor,
                reason=reason,
                evidence=evidence or {},
                at=at,
            )
            _append(conn, move)
        return move

    def history(self, kind: str, subject: str, name: str | None = None) -> list[PointerMove]:
        """Every move of one index's (or prompt's) pointers, oldest first."""
        query = pointer_history.select().where(
            pointer_history.c.kind == kind, pointer_history.c.subject == subject
        )
        if name is not None:
            query = query.where(pointer_history.c.name == name)
        with self.database.read() as connection:
            rows = connection.execute(query.order_by(pointer_history.c.id)).mappings().all()
        return [_move(row) for row in rows]

    def stack(self, kind: str, subject: str, name: str) -> list[PointerMove]:
        """The promotions that brought ``name`` where it is, oldest first: each rollback pops
        the newest. ``stack[-1].to_target`` is the current target, ``stack[-2]`` the one a
        rollback returns to."""
        stack: list[PointerMove] = []
        for move in self.history(kind, subject, name):
            if move.action == "rollback":
                if stack:
                    stack.pop()
            elif move.action == "promote":
                stack.append(move)
        return stack

    def set_hold(
        self,
        kind: str,
        subject: str,
        name: str,
        *,
        actor: str,
        reason: str | None = None,
        hold: bool = True,
        connection: Connection | None = None,
    ) -> PointerMove | None:
        """Hold (or release) a pointer against automatic promotion; recorded in its history.
        None when there is nothing to change (already held, or not held)."""
        with self._connection(connection) as conn:
            row = (
                conn.execute(
                    pointers.select()
                    .where(
                        pointers.c.kind == kind,
                        pointers.c.subject == subject,
                        pointers.c.name == name,
                    )
                    .with_for_update()
                )
                .mappings()
                .first()
            )
            if row is None:
                raise PromotionError(
                    f"{kind} {subject!r} has no {name!r} to hold or release; promote first"
                )
            if (row["held_by"] is not None) == hold:
                return None
            at = now()
            values = (
                {"held_by": actor[:128], "held_at": at, "hold_reason": reason}
                if hold
                else {"held_by": None, "held_at": None, "hold_reason": None}
            )
            conn.execute(
                pointers.update()
                .where(
                    pointers.c.kind == kind,
                    pointers.c.subject == subject,
                    pointers.c.name == name,
                )
                .values(**values)
            )
            move = PointerMove(
                kind, subject, name, "hold" if hold else "release", row["target"],
                row["target"], False, actor, reason, {}, at,
            )  # fmt: skip
            _append(conn, move)
        return move

    @contextmanager
    def _connection(self, connection: Connection | None) -> Iterator[Connection]:
        if connection is not None:
            yield connection
            return
        with self.database.transaction() as own:
            yield own


def _append(connection: Connection, move: PointerMove) -> None:
    """Append ``move`` to the pointer history."""
    row = dataclasses.asdict(move)
    row["evidence_json"] = json.dumps(row.pop("evidence"))
    connection.execute(pointer_history.insert().values(**row))


def _pointer(row: Any) -> Pointer:
    hold = None
    if row["held_by"] is not None:
        hold = Hold(by=row["held_by"], at=aware(row["held_at"]), reason=row["hold_reason"])
    return Pointer(
        kind=row["kind"],
        subject=row["subject"],
        name=row["name"],
        target=row["target"],
        updated_at=aware(row["updated_at"]),
        hold=hold,
    )


def _move(row: Any) -> PointerMove:
    return PointerMove(
        kind=row["kind"],
        subject=row["subject"],
        name=row["name"],
        action=row["action"],
        from_target=row["from_target"],
        to_target=row["to_target"],
        forced=bool(row["forced"]),
        actor=row["actor"],
        reason=row["reason"],
        evidence=json.loads(row["evidence_json"]),
        at=aware(row["at"]),
    )
