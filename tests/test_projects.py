"""Two projects on one store: each project's collections carry its id, so one project's crash
recovery, retention and aliases never touch the other's. Real CLI processes throughout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from ragops import Retriever
from ragops.catalog import INDEX
from ragops.project import Project
from tests.conftest import write_project


def _ragops(config: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragops.cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=600,
    )


def _two_projects(tmp_path: Path) -> tuple[Path, Path]:
    shared = tmp_path / "shared-qdrant"
    paths = []
    for name in ("alpha", "beta"):
        path = write_project(tmp_path / name, extra_index="    retention: {keep_versions: 1}\n")
        text = path.read_text().replace("project: test\n", f"project: {name}\n")
        path.write_text(text + f"store:\n  path: {shared}\n")
        paths.append(path)
    return paths[0], paths[1]


def _points(config: Path) -> tuple[str, int, int]:
    """(collection, points visible in the newest version, chunks the catalog expects)."""
    with Project.open(config) as project:
        head = project.catalog.versions.latest("docs")
        assert head is not None
        collection = project.catalog.generations.get(head.generation_id).collection
        return collection, project.store.count(collection, head.number), head.chunks


def _sync(config: Path) -> None:
    """A sync in this process (the model is loaded here already)."""
    import ragops

    with Project.open(config) as project:
        ragops.sync(project)


def test_two_projects_with_an_index_of_one_name_share_a_store_safely(tmp_path: Path) -> None:
    alpha, beta = _two_projects(tmp_path)
    _sync(alpha)
    _sync(beta)
    a_collection, a_points, a_chunks = _points(alpha)
    b_collection, _, _ = _points(beta)
    assert a_collection != b_collection, "same index name and spec, one collection each"
    assert a_points == a_chunks > 0

    # beta's sync dies after writing; its recovery must undo only beta's own points
    (beta.parent / "docs" / "bees.md").write_text("# Bees\n\nBees make honey from nectar.\n")
    killed = _ragops(beta, "sync", RAGOPS_KILL_AT="after_first_write")
    assert killed.returncode == -signal.SIGKILL
    _sync(beta)
    # beta's retention prunes its version 1 (keep_versions: 1)
    gc = _ragops(beta, "gc", "docs", "--json")
    assert gc.returncode == 0, gc.stderr
    assert _points(alpha)[1:] == (a_points, a_chunks), "alpha's points are untouched"

    for config in (alpha, beta):
        promoted = _ragops(config, "promote", "docs", "1" if config == alpha else "2", "--json")
        assert promoted.returncode == 0, promoted.stderr
    with Project.open(alpha) as a, Project.open(beta) as b:
        aliases = json.loads((tmp_path / "shared-qdrant" / "aliases.json").read_text())
        assert aliases["alpha.docs"] == a_collection
        assert aliases["beta.docs"] == b_collection
        assert a.catalog.pointers.get(INDEX, "docs", "production").version == 1  # type: ignore[union-attr]
        assert b.catalog.pointers.get(INDEX, "docs", "production").version == 2  # type: ignore[union-attr]
        hits = Retriever(a, "docs").search("what do bees make?", k=5)
    assert "bees.md" not in {h.doc_id for h in hits}, "alpha never indexed beta's bee page"
