"""A sync killed with SIGKILL at any point leaves readers untouched, and the next sync ends
with exactly the right contents: no duplicate, no missing chunk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import ragops
from ragops._faults import CHECKPOINTS
from ragops.catalog import INDEX
from ragops.environments import promote
from ragops.project import Project
from tests.conftest import write_project


def _sync_in_subprocess(config: Path, kill_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAGOPS_KILL_AT": kill_at or ""}
    return subprocess.run(
        [sys.executable, "-m", "ragops.cli", "--config", str(config), "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _head_chunks(project: Project) -> tuple[int, list[str]]:
    head = project.catalog.versions.latest("docs")
    assert head is not None
    collection = project.catalog.generations.get(head.generation_id).collection
    ids = [p.payload["chunk_id"] for p in project.store.scroll(collection, head.number)]
    return head.number, ids


def _edit(docs: Path) -> None:
    (docs / "astronomy.md").write_text(
        "# The Sun\n\nThe Sun is a star. It holds the planets in orbit.\n"
    )
    (docs / "bees.md").write_text("# Bees\n\nBees make honey from nectar and pollinate flowers.\n")
    (docs / "bread.html").unlink()


def _edit_again(docs: Path) -> None:
    """A change made after the sync died: the points it wrote for the first edit of
    astronomy.md must be gone, or version 2 would hold them as well."""
    (docs / "astronomy.md").write_text("# The Sun\n\nThe Sun is a yellow dwarf star.\n")


@pytest.fixture(scope="module")
def expected_chunk_ids(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Chunk ids of a clean build of the edited documents (ids are deterministic)."""
    path = write_project(tmp_path_factory.mktemp("clean"))
    _edit(path.parent / "docs")
    _edit_again(path.parent / "docs")
    with Project.open(path) as project:
        ragops.sync(project)
        _, ids = _head_chunks(project)
    return set(ids)


@pytest.mark.parametrize("kill_at", CHECKPOINTS)
def test_sync_killed_at_any_point_recovers_exactly(
    tmp_path: Path, kill_at: str, expected_chunk_ids: set[str], catalog_url: str
) -> None:
    path = write_project(tmp_path / "p", catalog_url=catalog_url)
    with Project.open(path) as project:
        ragops.sync(project)
        promote(project, "docs", 1, force=True, reason="kill test baseline")
        _, production_ids = _head_chunks(project)
    _edit(path.parent / "docs")

    killed = _sync_in_subprocess(path, kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    with Project.open(path) as project:
        pointer = project.catalog.pointers.get(INDEX, "docs", "production")
        assert pointer is not None and pointer.version == 1, "production never moves by a sync"
        collection = project.catalog.generations.get(
            project.catalog.versions.get("docs", 1).generation_id
        ).collection
        assert sorted(p.payload["chunk_id"] for p in project.store.scroll(collection, 1)) == sorted(
            production_ids
        )

    # The next run (in this process, where the model is loaded already) recovers.
    _edit_again(path.parent / "docs")
    with Project.open(path) as project:
        [finished] = ragops.sync(project)
        committed = kill_at == "after_commit"  # the killed sync's version 2 stands
        assert finished.version == (3 if committed else 2)
        number, ids = _head_chunks(project)
        assert len(ids) == len(set(ids)), "no duplicate chunk"
        assert set(ids) == expected_chunk_ids, "exactly the chunks of a clean build"
        assert number == finished.version
        v1 = project.catalog.versions.get("docs", 1)
        v1_collection = project.catalog.generations.get(v1.generation_id).collection
        v1_ids = [p.payload["chunk_id"] for p in project.store.scroll(v1_collection, 1)]
        assert sorted(v1_ids) == sorted(production_ids), "version 1 is intact"
        assert project.catalog.leases.holder("index:docs") is None
