"""The lookups every search makes (the caller's API key, the environment's pointer) are
cached until the catalog changes: a promotion or a revoked key made by another connection or
another process is seen by the very next read, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from ragops.access import authenticate, create_key
from ragops.catalog import INDEX, Catalog
from ragops.errors import AuthenticationError


@pytest.fixture
def reader(catalog_url: str) -> Iterator[Catalog]:
    catalog = Catalog(catalog_url)
    yield catalog
    catalog.close()


def in_another_process(catalog_url: str, code: str) -> None:
    """Run ``code`` with ``catalog`` open on the same database, in a new Python process."""
    script = f"from ragops.catalog import Catalog, INDEX\ncatalog = Catalog({catalog_url!r})\n"
    subprocess.run([sys.executable, "-c", script + code], check=True, timeout=120)


def production(catalog: Catalog) -> str | None:
    pointer = catalog.pointers.get(INDEX, "docs", "production")
    return pointer.target if pointer is not None else None


def test_a_moved_pointer_is_seen_at_once(reader: Catalog, catalog_url: str) -> None:
    assert production(reader) is None
    writer = Catalog(catalog_url)
    try:
        writer.pointers.move(INDEX, "docs", "production", "1", action="promote", actor="t")
        assert production(reader) == "1", "a move by another connection"
        writer.pointers.move(INDEX, "docs", "production", "2", action="promote", actor="t")
        assert production(reader) == "2"
    finally:
        writer.close()
    in_another_process(
        catalog_url,
        "catalog.pointers.move(INDEX, 'docs', 'production', '3', action='promote', actor='t')",
    )
    assert production(reader) == "3", "a move by another process"
    reader.pointers.move(INDEX, "docs", "production", "4", action="promote", actor="t")
    assert production(reader) == "4", "a move by this catalog itself"


def test_a_revoked_key_stops_working_at_once(reader: Catalog, catalog_url: str) -> None:
    first = create_key(reader, ["user:alice"], "read")
    second = create_key(reader, ["user:bob"], "read")
    assert authenticate(reader, first.key).key_id == first.record.key_id
    assert authenticate(reader, second.key).key_id == second.record.key_id
    in_another_process(
        catalog_url, f"catalog.api_keys.revoke({first.record.key_id!r}, actor='t', reason=None)"
    )
    with pytest.raises(AuthenticationError, match="was revoked"):
        authenticate(reader, first.key)
    writer = Catalog(catalog_url)
    try:
        writer.api_keys.revoke(second.record.key_id, actor="t", reason=None)
    finally:
        writer.close()
    with pytest.raises(AuthenticationError, match="was revoked"):
        authenticate(reader, second.key)


def test_an_unchanged_sqlite_catalog_answers_repeated_lookups_without_queries(
    tmp_path: Path,
) -> None:
    """(PostgreSQL has no change counter: every lookup is a query there.)"""
    reader = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    key = create_key(reader, ["user:alice"], "read")
    reader.pointers.move(INDEX, "docs", "production", "1", action="promote", actor="t")
    for _ in range(2):  # the first use writes last_used_at (a change: every entry reloads)
        authenticate(reader, key.key)
        production(reader)
    statements: list[str] = []
    sa.event.listen(
        reader.database.engine, "before_cursor_execute",
        lambda _c, _cur, statement, *_: statements.append(statement),
    )  # fmt: skip
    for _ in range(20):
        assert authenticate(reader, key.key).key_id == key.record.key_id
        assert production(reader) == "1"
    assert statements == []
    reader.close()
