"""What ragops remembers for a connector between syncs: cursors, state, and unchanged ids.

A connector that can ask its source for "what changed since X" declares a cursor, the way dlt
does, as a parameter with an :class:`Incremental` default::

    @connector("tickets")
    def tickets(
        base_url: str,
        updated_since: Incremental[str] = Incremental("updated_at"),
    ) -> Iterator[SourceDocument | Unchanged]:
        for ticket_id in api.ids():                       # cheap: every id that exists
            yield Unchanged(ticket_id)
        for ticket in api.tickets(since=updated_since.start_value):   # None: everything
            yield SourceDocument(..., metadata={"updated_at": ticket["updated_at"]})

ragops hands the function the cursor saved by the last successful sync (``start_value``;
``None`` the first time, after ``ragops sync --full-listing``, or for a new generation of the
index), tracks the highest value the listing yields (``metadata[cursor_path]``, ``version``
when ``cursor_path="version"``, or values given to :meth:`Incremental.observe`), and saves it
in the catalog only when the version built from this listing commits. A sync that fails
leaves the cursor where it was, so nothing is skipped.

:class:`Unchanged` tells ragops that a document still exists without reading or describing it
again: ragops keeps what it holds for it. A document yielded in full and as ``Unchanged`` is
read in full. A document that is neither is deleted, as always, so a connector with a cursor
must still yield the id of every document that exists.

:class:`SourceState` is a small JSON mapping a connector may keep for itself (the web connector
keeps each page's links and validators there), saved and scoped like the cursors.

Cursors and state belong to one source *of one generation* of an index: a new generation (a
changed spec) starts with none, because it must read every document. So does a source whose
options changed (another table, other seeds): what was saved was saved for other options.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from ragops.errors import ConnectorError

__all__ = ["Incremental", "SourceMemory", "SourceState", "Unchanged"]

T = TypeVar("T")

#: Cursor value types a catalog can keep (each saved with its type, restored as that type).
_CURSOR_TYPES: dict[str, type] = {
    "str": str,
    "int": int,
    "float": float,
    "datetime": datetime,
    "date": date,
}


@dataclass(frozen=True)
class Unchanged:
    """A document that still exists and has not changed since the connector's cursor or
    validators: ragops keeps its chunks as they are and reads nothing."""

    doc_id: str


class Incremental(Generic[T]):
    """A cursor ragops keeps between syncs (declare it as a parameter's default).

    Args:
        cursor_path: where ragops reads each yielded document's cursor value: a metadata key,
            or ``"version"`` for the version marker. ``None``: only :meth:`observe` moves it.
        initial_value: the start value when no cursor is saved (default None: list all).
    """

    def __init__(self, cursor_path: str | None = None, *, initial_value: T | None = None) -> None:
        self.cursor_path = cursor_path
        self.initial_value = initial_value
        #: The value the last successful sync ended at (or ``initial_value``): list from here.
        self.start_value: T | None = initial_value
        #: The highest value seen in this listing so far (starts at ``start_value``).
        self.last_value: T | None = initial_value

    def __repr__(self) -> str:
        return (
            f"Incremental({self.cursor_path!r}, start_value={self.start_value!r}, "
            f"last_value={self.last_value!r})"
        )

    def observe(self, value: T | None) -> None:
        """Move the cursor to ``value`` when it is higher than the highest seen so far."""
        if value is None:
            return
        if self.last_value is None:
            self.last_value = value
            return
        try:
            higher = value > self.last_value  # type: ignore[operator]
        except TypeError:
            raise ConnectorError(
                f"cursor {self.cursor_path or 'value'}: cannot compare {value!r} "
                f"({type(value).__name__}) with {self.last_value!r} "
                f"({type(self.last_value).__name__}); yield cursor values of one type"
            ) from None
        if higher:
            self.last_value = value

    def fresh(self, saved: Any | None) -> Incremental[T]:
        """A copy for one listing, starting at ``saved`` (an encoded cursor) or the initial
        value."""
        copy: Incremental[T] = Incremental(self.cursor_path, initial_value=self.initial_value)
        if saved is not None:
            copy.start_value = copy.last_value = decode_cursor(saved)
        return copy


class SourceState(dict[str, Any]):
    """A JSON mapping a connector keeps between syncs (declare a parameter of this type).

    It starts as the state saved by the last successful sync (empty the first time) and is
    saved again when the version built from this listing commits. Keep it small: it is read
    and written whole on every sync.
    """


@dataclass
class SourceMemory:
    """What ragops keeps for one source of one generation: its cursors (encoded), its state,
    and the sha256 of the options they were saved under."""

    cursors: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    options_sha256: str | None = None

    def is_empty(self) -> bool:
        return not self.cursors and not self.state

    def to_json(self) -> str:
        return json.dumps(
            {"cursors": self.cursors, "state": self.state, "options_sha256": self.options_sha256},
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> SourceMemory:
        data = json.loads(text) if text else {}
        return cls(
            dict(data.get("cursors") or {}),
            dict(data.get("state") or {}),
            data.get("options_sha256"),
        )


def options_sha256(options: Mapping[str, Any]) -> str:
    """sha256 of a source's options (what its saved cursors and state belong to)."""
    blob = json.dumps(dict(options), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def encode_cursor(value: Any) -> dict[str, Any]:
    """A cursor value as JSON with its type, so it comes back as the same type."""
    kind = type(value).__name__
    if kind not in _CURSOR_TYPES or (isinstance(value, float) and not math.isfinite(value)):
        raise ConnectorError(
            f"cursor value {value!r} ({kind}) cannot be saved: use a str, int, finite float, "
            "datetime or date"
        )
    saved = value.isoformat() if isinstance(value, datetime | date) else value
    return {"type": kind, "value": saved}


def decode_cursor(saved: Mapping[str, Any]) -> Any:
    kind, value = saved.get("type"), saved.get("value")
    if kind == "datetime":
        return datetime.fromisoformat(value)  # type: ignore[arg-type]
    if kind == "date":
        return date.fromisoformat(value)  # type: ignore[arg-type]
    if kind in _CURSOR_TYPES:
        return _CURSOR_TYPES[kind](value)
    raise ConnectorError(f"a saved cursor has an unknown type {kind!r}: {dict(saved)!r}")


def check_state(source: str, state: MutableMapping[str, Any]) -> dict[str, Any]:
    """``state`` as a plain dict, or ConnectorError when it does not survive JSON."""
    try:
        return dict(json.loads(json.dumps(dict(state), allow_nan=False)))
    except (TypeError, ValueError) as exc:
        raise ConnectorError(
            f"source {source!r}: the connector's SourceState must hold JSON values "
            f"(str, int, float, bool, None, lists and dicts of them): {exc}"
        ) from None


def iter_cursor_values(cursors: Mapping[str, Incremental[Any]]) -> Iterator[tuple[str, Any]]:
    """(parameter, encoded last value) for each cursor that has one."""
    for name, cursor in cursors.items():
        if cursor.last_value is not None:
            yield name, encode_cursor(cursor.last_value)
