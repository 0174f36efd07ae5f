"""The ``git`` connector: the files of a branch (or tag, or commit) of a git repository, local
or remote, read with the ``git`` command.

The document id is the file's path; the version marker is its blob sha, so a file is read
only when its content changed, and nothing needs a working tree. A renamed file is a delete
plus a new document with the same content: the sync counts it as a rename and reuses its
vectors. Metadata: ``path``, and the last commit that changed the file (``commit``,
``author``, ``date``), plus ``url`` from ``url_template``. (The branch's head commit is not
metadata: it would rewrite every chunk of every file on each commit.)

A remote repository (``https://…``, ``ssh://…``, ``git@host:…``) is mirrored into
``cache_dir`` and fetched at each listing; credentials come from git's own configuration
(credential helper, SSH agent), never from ``ragops.yaml``.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

from ragops.errors import ConnectorError
from ragops.sources import SourceDocument, connector

_REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.IGNORECASE)


@connector("git")
def git(
    repository: str,
    branch: str = "HEAD",
    include: list[str] = ["**/*"],  # noqa: B006  (pydantic copies defaults)
    exclude: list[str] = [],  # noqa: B006
    url_template: str | None = None,
    cache_dir: str = ".ragops/git",
    project_dir: str | None = None,
) -> Iterator[SourceDocument]:
    """Yield every file of ``branch`` matching ``include`` and not ``exclude``.

    Args:
        repository: a local repository (a path, relative to the folder of ragops.yaml) or a
            remote URL (mirrored into ``cache_dir``).
        branch: a branch, tag or commit (default: the repository's HEAD).
        include: gitignore-style patterns of the files to index, e.g. ``["docs/**/*.md"]``.
        exclude: gitignore-style patterns to leave out.
        url_template: a link for each file, with ``{path}``, ``{commit}`` (the last commit
            that changed it) and ``{branch}``, e.g.
            ``https://github.com/org/repo/blob/{commit}/{path}``.
        cache_dir: where remote repositories are mirrored (relative to ragops.yaml).
        project_dir: filled in by ragops; not a user option.
    """
    import pathspec

    base = Path(project_dir) if project_dir else Path.cwd()
    repo = _mirror(repository, base / cache_dir) if _REMOTE.match(repository) else base / repository
    if not (repo / ".git").exists() and not (repo / "HEAD").exists():
        raise ConnectorError(
            f"git source: {repo} is not a git repository; fix 'repository' in ragops.yaml "
            "(a path relative to ragops.yaml, or a remote URL)"
        )
    commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}").strip()
    wanted = pathspec.PathSpec.from_lines("gitignore", include)
    unwanted = pathspec.PathSpec.from_lines("gitignore", exclude)
    files: dict[str, tuple[str, int]] = {}
    for entry in _git(repo, "ls-tree", "-r", "-l", "-z", commit).split("\0"):
        if not entry:
            continue
        info, _, path = entry.partition("\t")
        mode, kind, sha, size = info.split()
        if kind != "blob" or mode == "120000":  # submodules and symlinks are not files here
            continue
        if wanted.match_file(path) and not unwanted.match_file(path):
            files[path] = (sha, int(size))
    changes = _last_changes(repo, commit, set(files))
    for path, (sha, size) in sorted(files.items()):
        last_commit, author, date = changes.get(path, (commit, "", ""))
        metadata = {"path": path, "commit": last_commit, "author": author, "date": date}
        if url_template:
            metadata["url"] = url_template.format(path=path, commit=last_commit, branch=branch)
        yield SourceDocument(
            doc_id=path,
            version=sha,
            filename=Path(path).name,
            load=_blob(repo, sha),
            metadata=metadata,
            size=size,
        )


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, check=False, timeout=600
        )
    except FileNotFoundError:
        raise ConnectorError("git source: the git command is not installed") from None
    if done.returncode != 0:
        problem = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = problem[-1] if problem else f"exit status {done.returncode}"
        if args[:1] == ("rev-parse",):
            detail = f"no branch, tag or commit {args[-1].removesuffix('^{commit}')!r}"
        raise ConnectorError(f"git source {repo}: git {args[0]} failed: {detail}")
    return done.stdout.decode("utf-8", "surrogateescape")


def _mirror(url: str, cache: Path) -> Path:
    """A bare mirror of ``url`` in ``cache``, fetched now."""
    folder = cache / (hashlib.sha256(url.encode()).hexdigest()[:16] + ".git")
    if folder.exists():
        _git(folder, "remote", "update", "--prune")
    else:
        cache.mkdir(parents=True, exist_ok=True)
        _git(cache, "clone", "--mirror", "--quiet", url, str(folder))
    return folder


def _last_changes(repo: Path, commit: str, paths: set[str]) -> dict[str, tuple[str, str, str]]:
    """path → (sha, author, ISO date) of the newest commit that changed it, in one history
    walk (stopping once every path is found)."""
    found: dict[str, tuple[str, str, str]] = {}
    log = _git(repo, "log", "--format=%x01%H%x00%an%x00%aI", "--name-only", "-z", commit)
    for block in log.split("\x01")[1:]:
        header, _, names = block.partition("\n")
        sha, author, date = header.split("\0")[:3]
        for name in names.split("\0"):
            name = name.strip("\n")
            if name in paths and name not in found:
                found[name] = (sha, author, date)
        if len(found) == len(paths):
            break
    return found


def _blob(repo: Path, sha: str):  # type: ignore[no-untyped-def]
    return lambda: _git_bytes(repo, "cat-file", "blob", sha)


def _git_bytes(repo: Path, *args: str) -> bytes:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=600)
    if done.returncode != 0:
        raise ConnectorError(f"git source {repo}: git {args[0]} {args[-1]} failed")
    return done.stdout
