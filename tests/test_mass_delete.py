"""The mass-delete guard: a listing that would delete more than a source's
``max_delete_fraction`` (default half) of its documents stops the sync before anything is
written, naming the source, the counts and the flag that lets it through; removing a source
from the index's configuration is not guarded (that deletion is meant)."""

from __future__ import annotations

from pathlib import Path

import pytest

import ragops
from ragops.errors import MassDeleteError
from ragops.project import Project
from tests.conftest import write_project
from tests.test_cli import as_json, cli

DOCS = {f"note{n}.md": f"# Note {n}\n\nThe note number {n} about topic {n}.\n" for n in range(4)}


def versions(config: Path) -> list[int]:
    with Project.open(config) as project:
        return [v.number for v in project.catalog.versions.of_index("docs")]


def test_an_empty_listing_of_a_populated_source_deletes_nothing(tmp_path: Path) -> None:
    config = write_project(tmp_path / "p", docs=DOCS)
    docs = config.parent / "docs"
    with Project.open(config) as project:
        ragops.sync(project)
    for path in docs.glob("*.md"):
        path.unlink()  # the folder is there and empty: a listing of nothing

    with Project.open(config) as project, pytest.raises(MassDeleteError) as refused:
        ragops.sync(project)
    message = str(refused.value)
    assert "source 'docs' of index 'docs' lists 0 of the 4 documents" in message
    assert "would delete 4 (100%)" in message and "--allow-mass-delete" in message
    assert versions(config) == [1], "nothing was written"
    failed = cli("sync", cwd=config.parent)
    assert failed.returncode == 1 and "max_delete_fraction" in failed.stderr

    [synced] = as_json(cli("sync", "--allow-mass-delete", "--json", cwd=config.parent))["indexes"]
    assert (synced["version"], synced["documents"]["deleted"]) == (2, 4)


def test_half_may_go_more_may_not_unless_the_source_allows_it(tmp_path: Path) -> None:
    config = write_project(tmp_path / "p", docs=DOCS)
    docs = config.parent / "docs"
    with Project.open(config) as project:
        ragops.sync(project)
        (docs / "note0.md").unlink()
        (docs / "note1.md").unlink()
        [second] = ragops.sync(project)  # 2 of 4: not more than half
        assert second.documents.deleted == 2
        (docs / "note2.md").unlink()  # 1 of the 2 left: half again
        [third] = ragops.sync(project)
        assert third.documents.deleted == 1

    config.write_text(
        config.read_text().replace(
            "    root: docs\n", "    root: docs\n    max_delete_fraction: 1.0\n"
        )
    )
    (docs / "note3.md").unlink()  # the last one: 100 %, which this source allows
    with Project.open(config) as project:
        [fourth] = ragops.sync(project)
    assert fourth.documents.deleted == 1


def test_removing_a_source_from_the_index_is_not_guarded(tmp_path: Path) -> None:
    config = write_project(tmp_path / "p", docs=DOCS)
    (config.parent / "more").mkdir()
    (config.parent / "more" / "extra.md").write_text("# Extra\n\nAn extra note.\n")
    text = config.read_text()
    config.write_text(
        text.replace(
            "sources:\n", "sources:\n  more: {connector: filesystem, root: more}\n", 1
        ).replace("sources: [docs]", "sources: [docs, more]")
    )
    with Project.open(config) as project:
        [first] = ragops.sync(project)
        assert first.documents.new == 5
    config.write_text(config.read_text().replace("sources: [docs, more]", "sources: [docs]"))
    with Project.open(config) as project:
        [second] = ragops.sync(project)
    assert second.documents.deleted == 1


def test_moving_most_files_is_not_a_mass_delete(tmp_path: Path) -> None:
    """A moved file keeps its modification time and size (its version marker): three of four
    files moved into a folder are three renames, not three deletes."""
    config = write_project(tmp_path / "p", docs=DOCS)
    docs = config.parent / "docs"
    with Project.open(config) as project:
        ragops.sync(project)
        (docs / "archive").mkdir()
        for n in range(3):
            (docs / f"note{n}.md").rename(docs / "archive" / f"note{n}.md")
        [moved] = ragops.sync(project)
    assert (moved.documents.renamed, moved.documents.deleted, moved.embedded) == (3, 0, 0)
