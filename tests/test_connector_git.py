"""The ``git`` connector on a real repository: files of a branch with their last commit,
author and link; an edit, a rename and a delete between syncs (only the edited file embedded,
the renamed one counted as a rename), other branches, and a clear error for a bad branch."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import ragops
from ragops import Retriever
from ragops.errors import ConnectorError
from ragops.project import Project

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org",
}  # fmt: skip


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], env=ENV, check=True,
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "handbook"
    (repo / "docs").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "docs" / "leave.md").write_text("# Leave\n\nEveryone gets 25 days of paid leave.\n")
    (repo / "docs" / "badges.md").write_text("# Badges\n\nLost badges are replaced at reception.\n")
    (repo / "docs" / "lunch.md").write_text("# Lunch\n\nThe canteen serves lunch at noon.\n")
    (repo / "setup.py").write_text("print('not documentation')\n")
    commit(repo, "first")
    return repo


def write_config(root: Path, branch: str = "main") -> Path:
    config = root / "ragops.yaml"
    config.write_text(
        "project: gitsource\n"
        "sources:\n"
        "  handbook:\n"
        "    connector: git\n"
        "    repository: handbook\n"
        f"    branch: {branch}\n"
        "    include: ['docs/**/*.md']\n"
        "    url_template: 'https://git.example.org/handbook/blob/{commit}/{path}'\n"
        "    public: true\n"
        "indexes:\n"
        "  docs: {sources: [handbook], chunker: {kind: markdown}}\n"
    )
    return config


def test_commits_renames_and_deletes_reach_the_index(repo: Path) -> None:
    config = write_config(repo.parent)
    first_commit = git(repo, "rev-parse", "HEAD")
    with Project.open(config) as project:
        [first] = ragops.sync(project)
        assert (first.documents.new, first.chunks) == (3, 3), "setup.py is not included"
        ragops.promote(project, "docs", 1)
        [hit] = Retriever(project, "docs").search("paid leave", k=1)
        assert hit.doc_id == "docs/leave.md"
        assert hit.metadata["commit"] == first_commit and hit.metadata["author"] == "Ada"
        assert hit.metadata["url"] == (
            f"https://git.example.org/handbook/blob/{first_commit}/docs/leave.md"
        )

        (repo / "docs" / "leave.md").write_text("# Leave\n\nEveryone gets 28 days of paid leave.\n")
        git(repo, "mv", "docs/badges.md", "docs/access-badges.md")
        git(repo, "rm", "-q", "docs/lunch.md")
        second_commit = commit(repo, "edit, rename, delete")
        [second] = ragops.sync(project)
        d = second.documents
        assert (d.changed, d.renamed, d.deleted, d.new) == (1, 1, 1, 0)
        assert second.embedded == 1, "only the edited file is embedded; the rename reuses"
        ragops.promote(project, "docs", 2)
        found = {h.doc_id: h for h in Retriever(project, "docs").search("leave badges", k=5)}
        assert set(found) == {"docs/leave.md", "docs/access-badges.md"}
        assert "28 days" in found["docs/leave.md"].text
        assert found["docs/leave.md"].metadata["commit"] == second_commit
        assert found["docs/access-badges.md"].metadata["commit"] == second_commit


def test_another_branch_and_a_missing_one(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "draft")
    (repo / "docs" / "parking.md").write_text("# Parking\n\nPark in the north garage.\n")
    commit(repo, "draft page")
    git(repo, "checkout", "-q", "main")
    with Project.open(write_config(repo.parent, "draft")) as project:
        [synced] = ragops.sync(project)
    assert synced.documents.new == 4, "the draft branch has one page more"
    with (
        Project.open(write_config(repo.parent, "nope")) as project,
        pytest.raises(ConnectorError, match="no branch, tag or commit 'nope'"),
    ):
        ragops.sync(project)
