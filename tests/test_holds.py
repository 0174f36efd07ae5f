"""Holding an environment against automatic promotion: a rollback holds it, automation skips
it and says who holds it, a manual promotion or ``ragops release`` ends the hold; every hold
and release is in the environment's history. SQLite and PostgreSQL catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest

import ragops
from ragops.catalog import INDEX
from ragops.environments import hold, promote, release, rollback
from ragops.errors import IndexNotFoundError
from ragops.project import Project
from tests.conftest import write_project


def _edit(root: Path, text: str) -> None:
    doc = root / "docs" / "rollback.md"
    doc.write_text(doc.read_text() + f"\n{text}\n")


def _production(project: Project) -> tuple[int, str | None]:
    pointer = project.catalog.pointers.get(INDEX, "docs", "production")
    assert pointer is not None
    return pointer.version, pointer.hold.by if pointer.hold else None


def test_a_rollback_holds_production_until_a_person_promotes(
    tmp_path: Path, catalog_url: str
) -> None:
    root = tmp_path / "p"
    path = write_project(root, catalog_url=catalog_url)
    with Project.open(path) as project:
        assert ragops.run(project).indexes[0].promotions[0].to_version == 1
        _edit(root, "Rollback is audited.")
        assert ragops.run(project).indexes[0].promotions[0].to_version == 2

        back = rollback(project, "docs", reason="v2 answers worse")
        assert (back.from_version, back.to_version) == (2, 1)
        assert back.hold is not None and back.hold.by == "pytest"
        assert back.hold.reason == "v2 answers worse"

        # The next document edit: built and evaluated, not promoted, and the job says why.
        _edit(root, "A rollback is a pointer move.")
        item = ragops.run(project).indexes[0]
        assert item.sync.version == 3 and item.candidate is not None
        assert item.candidate.version == 3 and item.evals
        [skipped] = item.promotions
        assert (skipped.action, skipped.moved, skipped.from_version) == ("held", False, 1)
        assert item.held == {"production": skipped.hold.describe()}  # type: ignore[union-attr]
        assert "held by pytest since" in item.held["production"]
        assert "(v2 answers worse)" in item.held["production"]
        assert not item.refused, "a hold is not a refusal"
        assert _production(project) == (1, "pytest")

        # A person promotes: the hold ends in the same transaction.
        manual = promote(project, "docs", 3)
        assert manual.moved and manual.hold is not None, "says which hold it released"
        assert _production(project) == (3, None)
        actions = [
            (m.action, m.from_version, m.to_version)
            for m in project.catalog.pointers.history(INDEX, "docs", "production")
        ]
        assert actions == [
            ("promote", None, 1),
            ("promote", 1, 2),
            ("rollback", 2, 1),
            ("hold", 1, 1),
            ("promote", 1, 3),
            ("release", 3, 3),
        ]


def test_hold_and_release_by_hand_and_a_rollback_without_a_hold(tmp_path: Path) -> None:
    root = tmp_path / "p"
    path = write_project(root)
    with Project.open(path) as project:
        with pytest.raises(IndexNotFoundError, match="promote a version first"):
            hold(project, "docs")
        ragops.run(project)
        placed = hold(project, "docs", reason="release freeze")
        assert placed is not None and placed.reason == "release freeze"
        assert hold(project, "docs") is None, "already held: nothing recorded"
        _edit(root, "Rollback is audited.")
        item = ragops.run(project).indexes[0]
        assert item.sync.version == 2 and "release freeze" in item.held["production"]
        assert _production(project) == (1, "pytest")

        released = release(project, "docs")
        assert released is not None and released.reason == "release freeze"
        assert release(project, "docs") is None, "not held: nothing recorded"
        # Released: the job promotes again (the version it evaluated, 2).
        item = ragops.run(project).indexes[0]
        assert [p.action for p in item.promotions] == ["promote"] and not item.held
        assert _production(project) == (2, None)

        back = rollback(project, "docs", hold=False)
        assert back.to_version == 1 and back.hold is None
        assert _production(project) == (1, None)
        history = project.catalog.pointers.history(INDEX, "docs", "production")
        assert [m.action for m in history] == [
            "promote", "hold", "release", "promote", "rollback",
        ]  # fmt: skip
        # Holds are not moves: the rollback stack is the promotions only.
        stack = project.catalog.pointers.stack(INDEX, "docs", "production")
        assert [m.to_version for m in stack] == [1]
