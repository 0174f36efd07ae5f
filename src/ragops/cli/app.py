"""The ``ragops`` Typer application and what every command shares.

Every command that reports something takes ``--json``: then stdout holds exactly one JSON
document and everything else (progress, logs) goes to stderr. The project is found by
``--config``, ``$RAGOPS_CONFIG`` or ``./ragops.yaml``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

__all__ = [
    "ConfigOption",
    "JsonOption",
    "app",
    "open_project",
    "parse_filters",
    "project_session",
    "stdout_to_stderr",
]

app = typer.Typer(
    name="ragops",
    help="Versioned, evaluated, promotable retrieval indexes from your documents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="ragops.yaml to use (default: $RAGOPS_CONFIG, ./ragops.yaml)"
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout")]


class _State:
    config: Path | None = None


state = _State()


@app.callback()
def _main(config: ConfigOption = None) -> None:
    state.config = config


@contextlib.contextmanager
def stdout_to_stderr(active: bool) -> Iterator[None]:
    """While working in --json mode, anything a library prints goes to stderr."""
    if not active:
        yield
        return
    saved = os.dup(1)
    sys.stdout.flush()
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def open_project(config: Path | None = None) -> Project:
    from ragops.project import Project

    return Project.open(config or state.config)


@contextlib.contextmanager
def project_session() -> Iterator[Project]:
    """The project of ``--config``, closed (releasing the embedded store) afterwards."""
    project = open_project()
    try:
        yield project
    finally:
        project.close()


def parse_filters(values: list[str] | None) -> dict[str, Any]:
    """``--filter key=value`` options as a filter mapping (a repeated key matches any)."""
    filters: dict[str, Any] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(
                f"--filter {item!r}: write key=value, e.g. --filter doc_id=a.md"
            )
        parsed: Any = int(value) if value.lstrip("-").isdigit() else value
        if key in filters:
            previous = filters[key]
            filters[key] = [*previous, parsed] if isinstance(previous, list) else [previous, parsed]
        else:
            filters[key] = parsed
    return filters
