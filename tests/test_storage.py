"""Chunk store, export/restore without re-embedding, and retention (with real processes for
its crash points and its race with promotion). On SQLite and PostgreSQL catalogs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ragops
from ragops import Retriever
from ragops._faults import RETENTION_CHECKPOINTS
from ragops.catalog import INDEX
from ragops.environments import promote
from ragops.errors import IndexNotFoundError, RagopsError
from ragops.project import Project
from ragops.versions.export import export_index, restore_index
from ragops.versions.retention import collect_garbage
from tests.conftest import write_project


def _collection(project: Project, version: int) -> str:
    info = project.catalog.versions.get("docs", version)
    return project.catalog.generations.get(info.generation_id).collection


def _three_versions(project: Project, docs: Path) -> None:
    ragops.sync(project)
    (docs / "astronomy.md").write_text("# The Sun\n\nThe Sun is a star at the centre.\n")
    ragops.sync(project)
    (docs / "bees.md").write_text("# Bees\n\nBees make honey from nectar.\n")
    (docs / "bread.html").unlink()
    ragops.sync(project)


def _ragops(config: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ragops.cli", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def test_the_chunk_store_replays_every_version_exactly(open_project, project_path: Path) -> None:
    project = open_project()
    _three_versions(project, project_path.parent / "docs")
    collection = _collection(project, 3)
    for version in (1, 2, 3):
        from_store = {
            p.id: (p.payload["v_from"], p.payload["v_to"], p.payload["text"])
            for p in project.store.scroll(collection, version, with_vectors=True)
        }
        replayed = list(project.chunk_store.points(collection, version))
        assert {
            p.id: (p.payload["v_from"], p.payload["v_to"], p.payload["text"]) for p in replayed
        } == from_store
        assert all(len(p.vector) == 384 for p in replayed)


def test_export_and_restore_rebuild_an_index_in_another_project_without_embedding(
    tmp_path: Path, catalog_url: str
) -> None:
    source = write_project(tmp_path / "a", catalog_url=catalog_url)
    with Project.open(source) as project:
        _three_versions(project, source.parent / "docs")
        summary = export_index(project, "docs", tmp_path / "export", version=3)
        expected = Retriever(project, "docs", version=3).search("what do bees make?", k=3)
    assert summary.points > 0 and (tmp_path / "export" / "points.parquet").is_file()

    # the Qdrant files are gone; a server-backed project restores the export into its own
    # store and catalog
    target = write_project(tmp_path / "b", store_url=":memory:")
    with Project.open(target) as project:
        restored = restore_index(project, tmp_path / "export")
        assert restored.points == summary.points and restored.version == 1
        assert [v.number for v in project.catalog.versions.of_index("docs")] == [1]
        hits = Retriever(project, "docs", version=restored.version).search(
            "what do bees make?", k=3
        )
        assert [(h.chunk_id, h.text) for h in hits] == [(h.chunk_id, h.text) for h in expected]
        assert [h.score for h in hits] == pytest.approx([h.score for h in expected], abs=1e-4)
        # the BM25 vectors came along (scores differ a little: Qdrant's IDF counts every
        # point of a collection, and the source's also holds versions 1 and 2)
        matched = [h.sparse_score is not None for h in hits]
        assert any(matched) and matched == [h.sparse_score is not None for h in expected]
        # the restored document states make the next sync a no-op for the exported documents
        (target.parent / "docs" / "astronomy.md").write_text(
            "# The Sun\n\nThe Sun is a star at the centre.\n"
        )
        (target.parent / "docs" / "bees.md").write_text("# Bees\n\nBees make honey from nectar.\n")
        (target.parent / "docs" / "bread.html").unlink()
        [after] = ragops.sync(project)
        assert after.embedded == 0 and after.points_written == 0
    with Project.open(source) as project:
        versions = [v.number for v in project.catalog.versions.of_index("docs")]
        assert versions == [1, 2, 3], "the source project's catalog did not change"


def test_restore_refuses_a_folder_that_is_not_an_export(open_project, tmp_path: Path) -> None:
    with pytest.raises(RagopsError, match="not a ragops export"):
        restore_index(open_project(), tmp_path / "nothing-here")


def test_retention_keeps_recent_and_pointed_versions_and_prunes_the_rest(
    tmp_path: Path, catalog_url: str
) -> None:
    path = write_project(
        tmp_path / "p",
        catalog_url=catalog_url,
        extra_index="    retention: {keep_versions: 2}\n",
    )
    docs = path.parent / "docs"
    with Project.open(path) as project:
        ragops.sync(project)
        promote(project, "docs", 1, force=True, reason="test")
        collection = _collection(project, 1)
        pruned = []
        for n in range(2, 6):
            (docs / f"note{n}.md").write_text(
                f"# Note {n}\n\nThis is note number {n} about topic {n}.\n"
            )
            (docs / "gardening.md").write_text(f"# Tomatoes\n\nWater them {n} times a week.\n")
            [result] = ragops.sync(project)
            pruned += result.pruned_versions
        assert result.version == 5 and pruned == [2, 3]
        assert {v.number for v in project.catalog.versions.live("docs")} == {1, 4, 5}
        with pytest.raises(IndexNotFoundError, match="removed by retention"):
            Retriever(project, "docs", version=2)
        assert Retriever(project, "docs").version == 1
        assert (
            Retriever(project, "docs", version=1).search("tomatoes sun", k=1)[0].doc_id
            == "gardening.md"
        )
        for version in (1, 4, 5):
            chunks = project.catalog.versions.get("docs", version).chunks
            assert project.store.count(collection, version) == chunks
            replayed = project.chunk_store.points(collection, version, with_vectors=False)
            assert len(list(replayed)) == chunks
        visible_somewhere = {p.id for v in (1, 4, 5) for p in project.store.scroll(collection, v)}
        assert {p.id for p in project.store.scroll(collection)} == visible_somewhere
        assert collect_garbage(project, "docs").pruned == []


def _generation_to_drop(tmp_path: Path, catalog_url: str) -> Path:
    """Version 1 in generation A, version 2 in generation B (new stamp), keep 1 version:
    retention prunes version 1 and drops A's collection."""
    path = write_project(
        tmp_path / "p", catalog_url=catalog_url, extra_index="    retention: {keep_versions: 1}\n"
    )
    with Project.open(path) as project:
        ragops.sync(project)
    path.write_text(path.read_text().replace("sources: [docs]", "sources: [docs]\n    stamp: b"))
    with Project.open(path) as project:  # build B without applying retention yet
        from ragops.versions.sync import sync_index

        sync_index(project, "docs")
    return path


@pytest.mark.parametrize("kill_at", RETENTION_CHECKPOINTS)
def test_retention_killed_at_any_point_is_finished_by_the_next_run(
    tmp_path: Path, catalog_url: str, kill_at: str
) -> None:
    path = _generation_to_drop(tmp_path, catalog_url)
    with Project.open(path) as project:
        [old, new] = project.catalog.generations.of_index("docs")
    killed = _ragops(path, "gc", "docs", RAGOPS_KILL_AT=kill_at)
    killed.communicate(timeout=300)
    assert killed.returncode == -signal.SIGKILL
    with Project.open(path) as project:
        v1 = project.catalog.versions.of_index("docs")[0]
        assert v1.pruned_at is not None, "marked pruned before any point was deleted"
        with pytest.raises(IndexNotFoundError, match="removed by retention"):
            Retriever(project, "docs", version=1)
    finished = _ragops(path, "gc", "docs", "--json")
    finished.communicate(timeout=300)
    assert finished.returncode == 0
    with Project.open(path) as project:
        assert not project.store.collection_exists(old.collection)
        assert project.catalog.documents.states(old.id) == {}, (
            "no rows say a dropped one is indexed"
        )
        assert (
            project.store.count(new.collection, 2) == project.catalog.versions.get("docs", 2).chunks
        )
        assert project.catalog.leases.holder("index:docs") is None


def test_promotion_waits_for_retention_and_cannot_pick_a_version_it_prunes(
    tmp_path: Path, catalog_url: str
) -> None:
    path = _generation_to_drop(tmp_path, catalog_url)
    release = tmp_path / "release-janitor"
    janitor = _ragops(
        path, "gc", "docs", RAGOPS_PAUSE_AT="after_mark_pruned", RAGOPS_PAUSE_FILE=str(release)
    )
    reached = release.with_name(release.name + ".reached")
    deadline = time.monotonic() + 120
    while not reached.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert reached.exists(), janitor.stderr.read() if janitor.stderr else ""
    refused = _ragops(path, "promote", "docs", "1", "--force", "--reason", "race")
    _, stderr = refused.communicate(timeout=300)
    assert refused.returncode == 1 and "locked by retention by pid" in stderr
    waiting = _ragops(path, "promote", "docs", "1", "--force", "--reason", "race", "--wait", "60")
    time.sleep(1.0)
    release.touch()
    _, stderr = waiting.communicate(timeout=300)
    assert waiting.returncode == 1 and "removed by retention" in stderr
    janitor.communicate(timeout=300)
    assert janitor.returncode == 0
    with Project.open(path) as project:
        assert project.catalog.pointers.get(INDEX, "docs", "production") is None
