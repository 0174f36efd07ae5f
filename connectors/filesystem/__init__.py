"""The ``filesystem`` connector: files under a folder, chosen by glob patterns."""

from __future__ import annotations

import fnmatch
import mimetypes
from collections.abc import Iterator
from pathlib import Path

from ragops.errors import ConnectorError
from ragops.sources import SourceDocument, connector

DEFAULT_EXCLUDE = [".*", "**/.*", "**/.*/**", "**/__pycache__/**"]


@connector("filesystem")
def filesystem(
    root: str,
    include: list[str] = ["**/*"],  # noqa: B006  (pydantic copies defaults)
    exclude: list[str] = DEFAULT_EXCLUDE,  # noqa: B006
    project_dir: str | None = None,
) -> Iterator[SourceDocument]:
    """Yield every regular file under ``root`` matching ``include`` and not ``exclude``.

    Args:
        root: the folder, absolute or relative to the folder holding ragops.yaml.
        include: glob patterns relative to ``root`` (``**`` crosses folders), e.g. ``["**/*.md"]``.
        exclude: glob patterns to leave out; hidden files and folders by default.
        project_dir: filled in by ragops (the folder of ragops.yaml); not a user option.

    The document id is the path relative to ``root`` (POSIX separators); the version marker
    is the modification time in nanoseconds plus the size, so an untouched file is never read.
    Metadata: ``path`` and ``extension`` (nothing that changes when the content does, so an
    edit rewrites only the chunks whose text changed).
    """
    base = Path(root).expanduser()
    if not base.is_absolute() and project_dir is not None:
        base = Path(project_dir) / base
    if not base.is_dir():
        raise ConnectorError(
            f"filesystem source folder {base} does not exist or is not a folder; "
            "fix 'root' in ragops.yaml (relative paths start at the folder of ragops.yaml)"
        )
    for path in _matching_files(base, include, exclude):
        relative = path.relative_to(base).as_posix()
        try:
            stat = path.stat()
        except OSError:
            continue  # vanished between listing and stat: it is simply not there any more
        yield SourceDocument(
            doc_id=relative,
            version=f"{stat.st_mtime_ns}:{stat.st_size}",
            filename=path.name,
            load=path.read_bytes,
            mime_type=mimetypes.guess_type(path.name)[0],
            metadata={"path": relative, "extension": path.suffix.lower()},
            size=stat.st_size,
        )


def _matching_files(base: Path, include: list[str], exclude: list[str]) -> Iterator[Path]:
    seen: set[Path] = set()
    for pattern in include:
        for path in sorted(base.glob(pattern)):
            if path in seen or not path.is_file():
                continue
            relative = path.relative_to(base).as_posix()
            if any(_glob_match(relative, pattern_out) for pattern_out in exclude):
                continue
            seen.add(path)
            yield path


def _glob_match(relative: str, pattern: str) -> bool:
    if fnmatch.fnmatchcase(relative, pattern):
        return True
    # "**/x" also matches "x" at the top level, as in gitignore
    return pattern.startswith("**/") and fnmatch.fnmatchcase(relative, pattern[3:])
