"""``ragops init``: create a new project from the bundled template."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from ragops.errors import ConfigError

__all__ = ["scaffold_project"]

#: Template files renamed on the way out (a dot-file would be skipped by packaging tools).
_RENAMES = {"gitignore": ".gitignore"}


def scaffold_project(directory: Path, *, force: bool = False) -> list[Path]:
    """Copy the project template into ``directory``; return the files created.

    Refuses a folder that already has files unless ``force``; never overwrites a file.
    """
    directory = directory.expanduser()
    if directory.exists() and any(directory.iterdir()) and not force:
        raise ConfigError(
            f"{directory} is not empty; choose a new folder or pass --force to add the "
            "template's files (existing files are never overwritten)"
        )
    template = resources.files("ragops") / "templates" / "project"
    created: list[Path] = []
    with resources.as_file(template) as source_root:
        for source in sorted(Path(source_root).rglob("*")):
            if source.is_dir() or "__pycache__" in source.parts:
                continue
            relative = source.relative_to(source_root)
            target = directory / relative.parent / _RENAMES.get(relative.name, relative.name)
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            created.append(target)
    return created
