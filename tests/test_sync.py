"""Sync: incremental, exact, crash-safe; bad input is quarantined and the run finishes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import ragops
from ragops.errors import ConnectorError
from ragops.project import Project
from ragops.store import OPEN
from tests.conftest import write_project


def _collection(project: Project, version: int) -> str:
    info = project.catalog.versions.get("docs", version)
    return project.catalog.generations.get(info.generation_id).collection


def _touch(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def _live_doc_ids(project: Project, version: int) -> set[str]:
    return {
        p.payload["doc_id"] for p in project.store.scroll(_collection(project, version), version)
    }


def test_first_sync_builds_version_1_and_a_rerun_changes_nothing(open_project) -> None:
    project = open_project()
    [first] = ragops.sync(project)
    assert first.created_version and first.version == 1
    assert first.documents.seen == first.documents.new == 4
    assert first.embedded == first.points_written == first.chunks > 0
    assert _live_doc_ids(project, 1) == {
        "rollback.md",
        "gardening.md",
        "astronomy.md",
        "bread.html",
    }

    [again] = ragops.sync(project)
    assert not again.created_version and again.version == 1
    assert (again.embedded, again.points_written, again.points_closed) == (0, 0, 0)
    assert again.documents.unchanged == 4
    assert [v.number for v in project.catalog.versions.of_index("docs")] == [1]


def test_touched_but_identical_file_is_read_but_not_reembedded(
    open_project, project_path: Path
) -> None:
    project = open_project()
    ragops.sync(project)
    _touch(project_path.parent / "docs" / "gardening.md")
    [result] = ragops.sync(project)
    assert not result.created_version
    assert result.embedded == 0 and result.documents.unchanged == 4
    [third] = ragops.sync(project)  # the new marker was recorded: not even read this time
    assert third.documents.unchanged == 4 and third.embedded == 0


def test_change_add_delete_make_a_new_version_and_old_versions_stay_readable(
    open_project, project_path: Path
) -> None:
    docs = project_path.parent / "docs"
    project = open_project()
    [v1] = ragops.sync(project)
    (docs / "astronomy.md").write_text(
        "# The Sun\n\nThe Sun is a star at the centre of the solar system.\n"
    )
    (docs / "new.md").write_text("# Bees\n\nBees make honey from nectar and pollinate flowers.\n")
    (docs / "bread.html").unlink()
    [v2] = ragops.sync(project)
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
    collection = _collection(project, 2)
    texts_v1 = {p.payload["text"] for p in project.store.scroll(collection, 1)}
    assert any("27.3 days" in t for t in texts_v1), "version 1 still holds the old Moon text"
    assert project.store.count(collection) == v1.chunks + v2.points_written


def test_a_broken_file_is_quarantined_with_its_reason_and_the_run_finishes(
    open_project, project_path: Path
) -> None:
    docs = project_path.parent / "docs"
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    (docs / "empty.txt").write_bytes(b"")
    project = open_project()
    [result] = ragops.sync(project)
    assert result.created_version
    assert result.documents.quarantined == 2
    reasons = {q["doc_id"]: q["reason"] for q in result.quarantined}
    assert set(reasons) == {"broken.pdf", "empty.txt"}
    assert all(reasons.values())
    assert "broken.pdf" not in _live_doc_ids(project, 1)
    [again] = ragops.sync(project)  # quarantined files are not retried until they change
    assert (
        again.embedded == 0 and again.documents.quarantined == 2 and again.documents.unchanged == 6
    )


def test_a_document_that_turns_unparseable_keeps_its_last_good_chunks(
    open_project, project_path: Path
) -> None:
    page = project_path.parent / "docs" / "bread.html"
    project = open_project()
    ragops.sync(project)
    page.write_bytes(b"")
    [result] = ragops.sync(project)
    assert result.documents.quarantined == 1
    assert "bread.html" in _live_doc_ids(project, result.version)


def test_a_vanished_source_fails_the_sync_and_deletes_nothing(
    open_project, project_path: Path
) -> None:
    project = open_project()
    ragops.sync(project)
    docs = project_path.parent / "docs"
    docs.rename(project_path.parent / "docs-moved")
    with pytest.raises(ConnectorError, match="does not exist"):
        ragops.sync(project)
    assert [v.number for v in project.catalog.versions.of_index("docs")] == [1]
    assert len(_live_doc_ids(project, 1)) == 4
    assert project.catalog.leases.holder("index:docs") is None, "the failed sync released its lock"


def test_points_of_a_sync_that_died_before_commit_are_undone(
    open_project, project_path: Path
) -> None:
    project = open_project()
    [v1] = ragops.sync(project)
    collection = _collection(project, 1)
    # What a sync killed before its commit leaves behind: the catalog's note that version 2
    # is being written, new points of version 2 and version-1 points closed at 2 (see
    # tests/test_kill.py for real SIGKILLs).
    [generation] = project.catalog.generations.of_index("docs")
    project.catalog.generations.begin_writing(generation.id, 2)
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
    [v2] = ragops.sync(project)
    assert v2.recovered_points == 3
    assert "ghost.md" not in _live_doc_ids(project, 2)
    assert project.store.count(collection, 2) == v1.chunks + v2.points_written
    assert project.catalog.generations.of_index("docs")[0].writing_version is None


def test_a_no_op_sync_does_not_open_the_vector_store(open_project) -> None:
    first = open_project()
    ragops.sync(first)
    first.close()
    project = open_project()
    [again] = ragops.sync(project)
    assert not again.created_version and again.documents.unchanged > 0
    assert project._store is None, "nothing to write and nothing to recover"


def test_sync_timings_are_reported(open_project) -> None:
    project = open_project()
    started = time.perf_counter()
    [result] = ragops.sync(project)
    assert 0 < result.seconds <= time.perf_counter() - started
    assert set(result.timings) >= {"parse", "embed", "write"}


def test_a_new_spec_builds_a_new_generation_beside_the_old(
    tmp_path: Path, catalog_url: str
) -> None:
    path = write_project(tmp_path / "p", catalog_url=catalog_url)
    with Project.open(path) as project:
        [v1] = ragops.sync(project)
    path.write_text(path.read_text().replace("kind: sentence", "kind: markdown"))
    with Project.open(path) as project:
        [v2] = ragops.sync(project)
        assert v2.version == 2 and v2.generation != v1.generation
        assert v2.documents.new == 4
        assert len(project.catalog.generations.of_index("docs")) == 2
        assert project.store.collection_exists(v1.collection)


def test_a_file_that_turns_unreadable_after_listing_is_quarantined(
    tmp_path: Path, catalog_url: str
) -> None:
    path = write_project(tmp_path / "p", catalog_url=catalog_url)
    folder = path.parent / "connectors" / "flaky_for_test"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(
        "from ragops import SourceDocument, connector\n"
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
        [result] = ragops.sync(project)
    reasons = {q["doc_id"]: q["reason"] for q in result.quarantined}
    assert reasons == {"secret.md": "unreadable: PermissionError: permission denied: secret.md"}
    assert result.documents.seen == 6 and result.created_version


def test_identical_text_is_never_embedded_twice(open_project, project_path: Path) -> None:
    docs = project_path.parent / "docs"
    project = open_project()
    [first] = ragops.sync(project)
    (docs / "copy-of-gardening.md").write_bytes((docs / "gardening.md").read_bytes())
    [copy] = ragops.sync(project)
    assert copy.documents.new == 1 and copy.points_written > 0
    assert copy.embedded == 0 and copy.reused == copy.points_written

    (docs / "rollback.md").rename(docs / "rolling-back.md")
    [renamed] = ragops.sync(project)
    d = renamed.documents
    assert (d.renamed, d.new, d.deleted) == (1, 0, 0)
    assert renamed.embedded == 0
    assert "rolling-back.md" in _live_doc_ids(project, renamed.version)
    assert "rollback.md" not in _live_doc_ids(project, renamed.version)
    assert first.embedded == first.points_written


def test_a_new_generation_reuses_vectors_of_unchanged_chunk_texts(
    tmp_path: Path, catalog_url: str
) -> None:
    path = write_project(tmp_path / "p", catalog_url=catalog_url)
    with Project.open(path) as project:
        [v1] = ragops.sync(project)
    path.write_text(
        path.read_text().replace("sources: [docs]", "sources: [docs]\n    stamp: rebuild")
    )
    with Project.open(path) as project:
        [v2] = ragops.sync(project)
    assert v2.generation != v1.generation and v2.documents.new == 4
    assert v2.embedded == 0 and v2.reused == v1.points_written


def test_a_reverted_edit_leaves_every_earlier_version_intact(
    open_project, project_path: Path
) -> None:
    page = project_path.parent / "docs" / "astronomy.md"
    original = page.read_text()
    project = open_project()
    ragops.sync(project)
    collection = _collection(project, 1)

    def texts(version: int) -> set[str]:
        return {p.payload["text"] for p in project.store.scroll(collection, version)}

    v1 = texts(1)
    page.write_text("# The Sun\n\nThe Sun is a star.\n")
    ragops.sync(project)
    v2 = texts(2)
    page.write_text(original)  # back to the text of version 1: same chunk ids as then
    [v3] = ragops.sync(project)
    assert v3.version == 3 and v3.embedded == 0
    assert texts(1) == v1 and texts(2) == v2 and texts(3) == v1
    assert project.store.count(collection, 3) == v3.chunks


def _tagged_project(root: Path, catalog_url: str) -> Path:
    """A project whose connector reads each document's metadata and ACL from tags.json."""
    path = write_project(root, catalog_url=catalog_url)
    folder = path.parent / "connectors" / "tagged"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(
        "import json\n"
        "from pathlib import Path\n"
        "from ragops import SourceDocument, connector\n"
        "\n"
        "@connector('tagged')\n"
        "def tagged(project_dir: str = '.'):\n"
        "    docs = Path(project_dir) / 'docs'\n"
        "    tags = json.loads((Path(project_dir) / 'tags.json').read_text())\n"
        "    for path in sorted(docs.glob('*.md')):\n"
        "        tag = tags.get(path.name, {})\n"
        "        yield SourceDocument(\n"
        "            doc_id=path.name, version=str(path.stat().st_mtime_ns), filename=path.name,\n"
        "            load=path.read_bytes, metadata={'team': tag.get('team', 'none')},\n"
        "            acl=tuple(tag.get('acl', ())),\n"
        "        )\n"
    )
    (path.parent / "tags.json").write_text('{"rollback.md": {"team": "ops", "acl": ["group:ops"]}}')
    path.write_text(
        path.read_text().replace("connector: filesystem\n    root: docs\n", "connector: tagged\n")
    )
    return path


def test_a_metadata_or_acl_change_reaches_the_points_without_reembedding(
    tmp_path: Path, catalog_url: str
) -> None:
    path = _tagged_project(tmp_path / "p", catalog_url)
    with Project.open(path) as project:
        [v1] = ragops.sync(project)
        (path.parent / "tags.json").write_text(
            '{"rollback.md": {"team": "platform", "acl": ["group:ops", "user:ana"]}}'
        )
        [v2] = ragops.sync(project)
        assert v2.created_version and v2.version == 2
        assert v2.documents.changed == 1 and v2.embedded == 0, "vectors come from the cache"
        collection = _collection(project, 2)

        def payloads(version: int) -> list[tuple[str, list[str]]]:
            return sorted(
                (p.payload["metadata"]["team"], p.payload["acl"])
                for p in project.store.scroll(collection, version)
                if p.payload["doc_id"] == "rollback.md"
            )

        assert payloads(1) and {team for team, _ in payloads(1)} == {"ops"}
        assert {team for team, _ in payloads(2)} == {"platform"}
        assert all(acl == ["group:ops", "user:ana"] for _, acl in payloads(2))
        [v3] = ragops.sync(project)
        assert not v3.created_version, "the new payload was recorded"
        assert v1.points_written > 0


def test_an_edit_in_the_middle_of_a_markdown_file_rewrites_only_that_section(
    tmp_path: Path, catalog_url: str
) -> None:
    sections = "\n\n".join(
        f"## Part {n}\n\nPart {n} " + "explains one more thing about the system in detail. " * 12
        for n in range(1, 7)
    )
    path = write_project(
        tmp_path / "p",
        docs={"guide.md": f"# Guide\n\n{sections}\n"},
        chunker="markdown",
        catalog_url=catalog_url,
    )
    guide = path.parent / "docs" / "guide.md"
    with Project.open(path) as project:
        [v1] = ragops.sync(project)
        assert v1.chunks >= 6
        guide.write_text(guide.read_text().replace("Part 4 explains", "Part 4 now explains"))
        [v2] = ragops.sync(project)
    assert (v2.points_written, v2.points_closed, v2.embedded) == (1, 1, 1)
    assert v2.chunks == v1.chunks


def test_a_listing_with_a_duplicate_id_fails_and_deletes_nothing(
    tmp_path: Path, catalog_url: str
) -> None:
    path = _tagged_project(tmp_path / "p", catalog_url)
    with Project.open(path) as project:
        [v1] = ragops.sync(project)
    connector = path.parent / "connectors" / "tagged" / "__init__.py"
    connector.write_text(
        connector.read_text().replace(
            "    for path in sorted(docs.glob('*.md')):",
            "    for path in sorted(docs.glob('*.md')) + [docs / 'rollback.md']:",
        )
    )
    with Project.open(path) as project:
        with pytest.raises(ConnectorError, match="same doc_id more than once.*'rollback.md'"):
            ragops.sync(project)
        assert [v.number for v in project.catalog.versions.of_index("docs")] == [1]
        assert len(_live_doc_ids(project, 1)) == 3
        assert v1.documents.seen == 3
