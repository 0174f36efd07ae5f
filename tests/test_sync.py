"""Sync: incremental, exact, crash-safe; bad input is quarantined and the run finishes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ragops.errors import ConnectorError
from ragops.project import Project
from ragops.store import OPEN
from tests.conftest import write_project


def _touch(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def _live_doc_ids(project: Project, version: int) -> set[str]:
    generation = project.catalog.generation(project.catalog.version("docs", version).generation_id)
    return {p.payload["doc_id"] for p in project.store.scroll(generation.collection, version)}


def test_first_sync_builds_version_1_and_a_rerun_changes_nothing(open_project) -> None:
    project = open_project()
    [first] = project.sync()
    assert first.created_version and first.version == 1
    assert first.documents.seen == first.documents.new == 4
    assert first.embedded == first.points_written == first.chunks > 0
    assert _live_doc_ids(project, 1) == {
        "rollback.md",
        "gardening.md",
        "astronomy.md",
        "bread.html",
    }

    [again] = project.sync()
    assert not again.created_version and again.version == 1
    assert (again.embedded, again.points_written, again.points_closed) == (0, 0, 0)
    assert again.documents.unchanged == 4
    assert [v.number for v in project.catalog.versions("docs")] == [1]


def test_touched_but_identical_file_is_read_but_not_reembedded(
    open_project, project_path: Path
) -> None:
    project = open_project()
    project.sync()
    _touch(project_path.parent / "docs" / "gardening.md")
    [result] = project.sync()
    assert not result.created_version
    assert result.embedded == 0 and result.documents.unchanged == 4
    [third] = project.sync()  # the new marker was recorded: not even read this time
    assert third.documents.unchanged == 4 and third.embedded == 0


def test_change_add_delete_make_a_new_version_and_old_versions_stay_readable(
    open_project, project_path: Path
) -> None:
    docs = project_path.parent / "docs"
    project = open_project()
    [v1] = project.sync()
    (docs / "astronomy.md").write_text(
        "# The Sun\n\nThe Sun is a star at the centre of the solar system.\n"
    )
    (docs / "new.md").write_text("# Bees\n\nBees make honey from nectar and pollinate flowers.\n")
    (docs / "bread.html").unlink()
    [v2] = project.sync()
    assert v2.created_version and v2.version == 2
    d = v2.documents
    assert (d.new, d.changed, d.deleted, d.unchanged) == (1, 1, 1, 2)
    assert v2.embedded == v2.points_written  # only new chunk texts reach the model
    assert _live_doc_ids(project, 2) == {"rollback.md", "gardening.md", "astronomy.md", "new.md"}
    assert _live_doc_ids(project, 1) == {
        "rollback.md",
        "gardening.md",
        "astronomy.md",
        "bread.html",
    }
    generation = project.catalog.generation(project.catalog.version("docs", 2).generation_id)
    texts_v1 = {p.payload["text"] for p in project.store.scroll(generation.collection, 1)}
    assert any("27.3 days" in t for t in texts_v1), "version 1 still holds the old Moon text"
    assert project.store.count(generation.collection) == v1.chunks + v2.points_written


def test_a_broken_file_is_quarantined_with_its_reason_and_the_run_finishes(
    open_project, project_path: Path
) -> None:
    docs = project_path.parent / "docs"
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    (docs / "empty.txt").write_bytes(b"")
    project = open_project()
    [result] = project.sync()
    assert result.created_version
    assert result.documents.quarantined == 2
    reasons = {q["doc_id"]: q["reason"] for q in result.quarantined}
    assert set(reasons) == {"broken.pdf", "empty.txt"}
    assert all(reasons.values())
    assert "broken.pdf" not in _live_doc_ids(project, 1)
    [again] = project.sync()  # quarantined files are not retried until they change
    assert (
        again.embedded == 0 and again.documents.quarantined == 2 and again.documents.unchanged == 6
    )


def test_a_document_that_turns_unparseable_keeps_its_last_good_chunks(
    open_project, project_path: Path
) -> None:
    page = project_path.parent / "docs" / "bread.html"
    project = open_project()
    project.sync()
    page.write_bytes(b"")
    [result] = project.sync()
    assert result.documents.quarantined == 1
    assert "bread.html" in _live_doc_ids(project, result.version)


def test_a_vanished_source_fails_the_sync_and_deletes_nothing(
    open_project, project_path: Path
) -> None:
    project = open_project()
    project.sync()
    docs = project_path.parent / "docs"
    docs.rename(project_path.parent / "docs-moved")
    with pytest.raises(ConnectorError, match="does not exist"):
        project.sync()
    assert [v.number for v in project.catalog.versions("docs")] == [1]
    assert len(_live_doc_ids(project, 1)) == 4
    assert project.catalog.lock_holder("docs") is None, "the failed sync released its lock"


def test_points_of_a_sync_that_died_before_commit_are_undone(
    open_project, project_path: Path
) -> None:
    project = open_project()
    [v1] = project.sync()
    generation = project.catalog.generation(project.catalog.version("docs", 1).generation_id)
    collection = generation.collection
    # What a sync killed before its commit leaves behind: new points of version 2 and
    # version-1 points closed at 2 (see tests/test_kill.py for real SIGKILLs).
    ids = [p.id for p in project.store.scroll(collection, 1)]
    vector = [0.0] * 384
    vector[0] = 1.0
    from ragops.store import PointRecord

    project.store.upsert(
        collection,
        [
            PointRecord(
                id="00000000-0000-0000-0000-000000000001",
                vector=vector,
                payload={
                    "doc_id": "ghost.md",
                    "chunk_id": "x",
                    "text": "ghost",
                    "metadata": {},
                    "v_from": 2,
                    "v_to": OPEN,
                },
            )
        ],
    )
    project.store.set_v_to(collection, ids[:2], 2)
    (project_path.parent / "docs" / "new.md").write_text("# Bees\n\nBees make honey.\n")
    [v2] = project.sync()
    assert v2.recovered_points == 3
    assert "ghost.md" not in _live_doc_ids(project, 2)
    assert project.store.count(collection, 2) == v1.chunks + v2.points_written


def test_sync_timings_are_reported(open_project) -> None:
    project = open_project()
    started = time.perf_counter()
    [result] = project.sync()
    assert 0 < result.seconds <= time.perf_counter() - started
    assert set(result.timings) >= {"parse", "embed", "write"}


def test_a_new_spec_builds_a_new_generation_beside_the_old(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p")
    with Project.open(path) as project:
        [v1] = project.sync()
    path.write_text(path.read_text().replace("kind: sentence", "kind: markdown"))
    with Project.open(path) as project:
        [v2] = project.sync()
        assert v2.version == 2 and v2.generation != v1.generation
        assert v2.documents.new == 4
        assert len(project.catalog.generations("docs")) == 2
        assert project.store.collection_exists(v1.collection)


def test_a_file_that_turns_unreadable_after_listing_is_quarantined(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p")
    folder = path.parent / "connectors" / "flaky_for_test"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(
        "from ragops.connectors import SourceDocument, connector\n"
        "\n"
        "def _gone():\n"
        "    raise PermissionError('permission denied: secret.md')\n"
        "\n"
        "@connector('flaky_for_test')\n"
        "def flaky():\n"
        "    yield SourceDocument(doc_id='ok.md', version='1', filename='ok.md',\n"
        "                         load=lambda: b'# Fine\\n\\nThis one reads.')\n"
        "    yield SourceDocument(doc_id='secret.md', version='1', filename='secret.md',\n"
        "                         load=_gone)\n"
    )
    path.write_text(
        path.read_text()
        .replace("sources:\n", "sources:\n  flaky: {connector: flaky_for_test}\n", 1)
        .replace("sources: [docs]", "sources: [docs, flaky]")
    )
    with Project.open(path) as project:
        [result] = project.sync()
    reasons = {q["doc_id"]: q["reason"] for q in result.quarantined}
    assert reasons == {"secret.md": "unreadable: PermissionError: permission denied: secret.md"}
    assert result.documents.seen == 6 and result.created_version


def test_identical_text_is_never_embedded_twice(open_project, project_path: Path) -> None:
    docs = project_path.parent / "docs"
    project = open_project()
    [first] = project.sync()
    (docs / "copy-of-gardening.md").write_bytes((docs / "gardening.md").read_bytes())
    [copy] = project.sync()
    assert copy.documents.new == 1 and copy.points_written > 0
    assert copy.embedded == 0 and copy.reused == copy.points_written

    (docs / "rollback.md").rename(docs / "rolling-back.md")
    [renamed] = project.sync()
    d = renamed.documents
    assert (d.renamed, d.new, d.deleted) == (1, 0, 0)
    assert renamed.embedded == 0
    assert "rolling-back.md" in _live_doc_ids(project, renamed.version)
    assert "rollback.md" not in _live_doc_ids(project, renamed.version)
    assert first.embedded == first.points_written


def test_a_new_generation_reuses_vectors_of_unchanged_chunk_texts(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p")
    with Project.open(path) as project:
        [v1] = project.sync()
    path.write_text(
        path.read_text().replace("sources: [docs]", "sources: [docs]\n    stamp: rebuild")
    )
    with Project.open(path) as project:
        [v2] = project.sync()
    assert v2.generation != v1.generation and v2.documents.new == 4
    assert v2.embedded == 0 and v2.reused == v1.points_written


def test_a_reverted_edit_leaves_every_earlier_version_intact(
    open_project, project_path: Path
) -> None:
    page = project_path.parent / "docs" / "astronomy.md"
    original = page.read_text()
    project = open_project()
    project.sync()
    generation = project.catalog.generation(project.catalog.version("docs", 1).generation_id)

    def texts(version: int) -> set[str]:
        return {p.payload["text"] for p in project.store.scroll(generation.collection, version)}

    v1 = texts(1)
    page.write_text("# The Sun\n\nThe Sun is a star.\n")
    project.sync()
    v2 = texts(2)
    page.write_text(original)  # back to the text of version 1: same chunk ids as then
    [v3] = project.sync()
    assert v3.version == 3 and v3.embedded == 0
    assert texts(1) == v1 and texts(2) == v2 and texts(3) == v1
    assert project.store.count(generation.collection, 3) == v3.chunks
