"""Chunk store, export/restore without re-embedding, and retention."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragops import Retriever
from ragops.errors import IndexNotFoundError
from ragops.versions.retention import collect_garbage
from ragops.environments import promote
from ragops.versions.export import export_index, restore_index
from ragops.project import Project
from tests.conftest import write_project


def _collection(project: Project, version: int) -> str:
    return project.catalog.generation(
        project.catalog.version("docs", version).generation_id
    ).collection


def _three_versions(project: Project, docs: Path) -> None:
    project.sync()
    (docs / "astronomy.md").write_text("# The Sun\n\nThe Sun is a star at the centre.\n")
    project.sync()
    (docs / "bees.md").write_text("# Bees\n\nBees make honey from nectar.\n")
    (docs / "bread.html").unlink()
    project.sync()


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


def test_export_and_restore_rebuild_an_index_without_embedding(tmp_path: Path) -> None:
    source = write_project(tmp_path / "a")
    with Project.open(source) as project:
        _three_versions(project, source.parent / "docs")
        summary = export_index(project, "docs", tmp_path / "export", version=3)
        expected = Retriever(project, "docs", version=3).search("what do bees make?", k=3)
    assert summary.points > 0 and (tmp_path / "export" / "points.parquet").is_file()

    # disaster recovery: the Qdrant files are gone; a server-backed project restores the export
    target = write_project(tmp_path / "b", store_url=":memory:")
    with Project.open(target) as project:
        restored = restore_index(project, tmp_path / "export")
        assert restored.points == summary.points and restored.version == 1
        hits = Retriever(project, "docs", version=restored.version).search(
            "what do bees make?", k=3
        )
        assert [(h.chunk_id, h.text) for h in hits] == [(h.chunk_id, h.text) for h in expected]
        assert [h.score for h in hits] == pytest.approx([h.score for h in expected], abs=1e-4)
        # the restored document states make the next sync a no-op for the exported documents
        (target.parent / "docs" / "astronomy.md").write_text(
            "# The Sun\n\nThe Sun is a star at the centre.\n"
        )
        (target.parent / "docs" / "bees.md").write_text("# Bees\n\nBees make honey from nectar.\n")
        (target.parent / "docs" / "bread.html").unlink()
        [after] = project.sync()
        assert after.embedded == 0 and after.points_written == 0


def test_restore_refuses_a_folder_that_is_not_an_export(open_project, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="not a ragops export"):
        restore_index(open_project(), tmp_path)


def test_retention_keeps_recent_and_pointed_versions_and_prunes_the_rest(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p", extra_index="    retention: {keep_versions: 2}\n")
    docs = path.parent / "docs"
    with Project.open(path) as project:
        project.sync()
        promote(project, "docs", 1, force=True, reason="test")
        collection = _collection(project, 1)
        pruned = []
        for n in range(2, 6):
            (docs / f"note{n}.md").write_text(
                f"# Note {n}\n\nThis is note number {n} about topic {n}.\n"
            )
            (docs / "gardening.md").write_text(f"# Tomatoes\n\nWater them {n} times a week.\n")
            [result] = project.sync()
            pruned += result.pruned_versions
        assert result.version == 5 and pruned == [2, 3]
        live = {v.number for v in project.catalog.versions("docs") if v.pruned_at is None}
        assert live == {1, 4, 5}
        with pytest.raises(IndexNotFoundError, match="removed by retention"):
            Retriever(project, "docs", version=2)
        assert Retriever(project, "docs").version == 1
        assert (
            Retriever(project, "docs", version=1).search("tomatoes sun", k=1)[0].doc_id
            == "gardening.md"
        )
        for version in (1, 4, 5):
            assert (
                project.store.count(collection, version)
                == project.catalog.version("docs", version).chunks
            )
            assert len(
                list(project.chunk_store.points(collection, version, with_vectors=False))
            ) == (project.catalog.version("docs", version).chunks)
        visible_somewhere = {p.id for v in (1, 4, 5) for p in project.store.scroll(collection, v)}
        assert {p.id for p in project.store.scroll(collection)} == visible_somewhere
        assert collect_garbage(project, "docs").pruned == []
