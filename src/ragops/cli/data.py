"""``ragops export``, ``restore`` and ``gc``: moving versions and applying retention."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from ragops.cli.app import JsonOption, app, project_session
from ragops.cli.console import emit_json, errors, out


@app.command()
def export(
    index: Annotated[str, typer.Argument(metavar="INDEX")],
    path: Annotated[Path, typer.Argument(metavar="PATH", help="Folder to write the export to")],
    version: Annotated[int | None, typer.Option(help="Version (default: production)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Write a version's points (vectors included) to a folder, for `ragops restore`."""
    from ragops.versions.export import export_index

    with errors(as_json), project_session() as project:
        summary = export_index(project, index, path, version)
    if as_json:
        emit_json(asdict(summary))
        return
    out.print(f"exported {index} version {summary.version}: {summary.points} points to {path}")


@app.command()
def restore(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="A folder written by `ragops export`")
    ],
    as_json: JsonOption = False,
) -> None:
    """Rebuild an index version from an export into this project (its store and catalog),
    without re-embedding, as a new version. To move an index to a Qdrant server, restore it
    into a project whose store.url is that server: `ragops --config server.yaml restore PATH`."""
    from ragops.versions.export import restore_index

    with errors(as_json), project_session() as project:
        summary = restore_index(project, path)
    if as_json:
        emit_json(asdict(summary))
        return
    out.print(
        f"restored {summary.index} version {summary.restored_from_version} as version "
        f"{summary.version}: {summary.points} points in {summary.collection}"
    )


@app.command()
def gc(index: Annotated[str, typer.Argument(metavar="INDEX")], as_json: JsonOption = False) -> None:
    """Apply retention now: remove versions nothing needs any more (sync does it too)."""
    from ragops.versions.retention import collect_garbage

    with errors(as_json), project_session() as project:
        report = collect_garbage(project, index)
    if as_json:
        emit_json(report.to_dict())
        return
    pruned = ", ".join(map(str, report.pruned)) or "nothing"
    out.print(
        f"{index}: pruned {pruned}; {report.points_deleted} points deleted; "
        f"kept {', '.join(map(str, report.retained))}"
    )
