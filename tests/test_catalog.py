"""The catalog on SQLite and on PostgreSQL: versions, documents, environments, locks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragops.catalog import Catalog, DocumentState
from ragops.errors import IndexNotFoundError, PromotionError, SyncInProgressError
from tests.catalog_urls import catalog_url_for


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    with catalog_url_for(request.param, tmp_path) as url:
        catalog = Catalog(url)
        yield catalog
        catalog.close()


def _doc(
    doc_id: str, chunks: tuple[str, ...], version: int = -1, status: str = "indexed"
) -> DocumentState:
    return DocumentState(
        source="docs",
        doc_id=doc_id,
        version_marker="m1",
        content_sha256="h",
        status=status,
        reason=None if status == "indexed" else "broken",
        chunk_ids=chunks,
        point_ids=tuple(f"p-{c}" for c in chunks),
        updated_version=version,
    )


def test_generation_is_created_once_per_fingerprint(catalog: Catalog) -> None:
    first = catalog.get_or_create_generation("docs", "a" * 64, {"x": 1}, 384, "cosine")
    again = catalog.get_or_create_generation("docs", "a" * 64, {"x": 1}, 384, "cosine")
    other = catalog.get_or_create_generation("docs", "b" * 64, {"x": 2}, 384, "cosine")
    assert first.id == again.id != other.id
    assert first.collection == "docs__" + "a" * 12
    assert [g.fingerprint[0] for g in catalog.generations("docs")] == ["a", "b"]


def test_commit_version_records_documents_atomically(catalog: Catalog) -> None:
    generation = catalog.get_or_create_generation("docs", "a" * 64, {}, 384, "cosine")
    assert catalog.next_version_number("docs") == 1
    catalog.commit_version(
        "docs",
        1,
        generation.id,
        [_doc("a.md", ("c1", "c2"), 1), _doc("b.md", ("c3",), 1)],
        [],
        {"chunks": 3},
    )
    catalog.commit_version(
        "docs",
        2,
        generation.id,
        [_doc("c.md", (), 2, "quarantined")],
        [("docs", "a.md")],
        {"chunks": 1},
    )
    documents = catalog.documents(generation.id)
    assert set(documents) == {("docs", "b.md"), ("docs", "c.md")}
    assert (
        catalog.documents(generation.id, status="quarantined")[("docs", "c.md")].reason == "broken"
    )
    assert [v.number for v in catalog.versions("docs")] == [1, 2]
    assert catalog.version("docs", 2).documents == 1  # indexed documents only
    assert catalog.next_version_number("docs") == 3
    with pytest.raises(IndexNotFoundError, match="no version 7; versions: 1, 2"):
        catalog.version("docs", 7)


def test_environment_moves_are_recorded_and_guarded(catalog: Catalog) -> None:
    generation = catalog.get_or_create_generation("docs", "a" * 64, {}, 384, "cosine")
    v1 = catalog.commit_version("docs", 1, generation.id, [], [], {"chunks": 0})
    v2 = catalog.commit_version("docs", 2, generation.id, [], [], {"chunks": 0})
    with pytest.raises(IndexNotFoundError, match="no 'production' environment"):
        catalog.environment("docs", "production")
    catalog.move_environment("docs", "production", v1, "promote", "alice")
    catalog.move_environment("docs", "production", v2, "promote", "bob", reason="better")
    assert catalog.environment("docs", "production").version == 2
    with pytest.raises(PromotionError, match="moved to version 2 while this change expected 1"):
        catalog.move_environment("docs", "production", v1, "rollback", "carol", expected_from=1)
    history = catalog.history("docs")
    assert [(h.from_version, h.to_version, h.actor) for h in history] == [
        (None, 1, "alice"),
        (1, 2, "bob"),
    ]


def test_eval_results_are_stored_per_version(catalog: Catalog) -> None:
    catalog.record_eval("docs", 1, "q", 5, {"recall@5": 0.5}, {"samples": []}, 0.1)
    catalog.record_eval("docs", 2, "q", 5, {"recall@5": 0.75}, {"samples": []}, 0.1)
    assert catalog.eval_results("docs", 2)[0]["metrics"] == {"recall@5": 0.75}
    assert len(catalog.eval_results("docs")) == 2


def test_sync_lock_names_the_holder_and_is_released(catalog: Catalog) -> None:
    with (
        catalog.sync_lock("docs"),
        pytest.raises(SyncInProgressError, match=r"being synced by pid \d+"),
        catalog.sync_lock("docs"),
    ):
        pass
    with catalog.sync_lock("docs"):
        pass


def test_a_lock_left_by_a_dead_process_is_taken_over(catalog: Catalog) -> None:
    code = (
        "import os, sys\n"
        "from ragops.catalog import Catalog\n"
        f"c = Catalog({catalog.url!r})\n"
        "c._acquire('docs', 'a process that dies')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert catalog.lock_holder("docs") is not None
    with catalog.sync_lock("docs"):
        assert "pid" in catalog.lock_holder("docs")["holder"]


def test_a_catalog_made_by_an_older_release_gains_the_new_columns(tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:  # the versions table as the first release made it
        connection.execute(
            sa.text(
                "CREATE TABLE versions (index_name VARCHAR(64) NOT NULL, number INTEGER NOT NULL, "
                "generation_id INTEGER NOT NULL, created_at DATETIME NOT NULL, documents INTEGER "
                "NOT NULL, chunks INTEGER NOT NULL, stats_json TEXT NOT NULL, "
                "PRIMARY KEY (index_name, number))"
            )
        )
        connection.execute(
            sa.text("INSERT INTO versions VALUES ('docs', 1, 1, '2026-01-01 00:00:00', 3, 9, '{}')")
        )
    engine.dispose()
    catalog = Catalog(url)
    try:
        [version] = catalog.versions("docs")
        assert version.number == 1 and version.pruned_at is None
    finally:
        catalog.close()
