"""The ``ragops`` Typer application and what every command shares.

Every command that reports something takes ``--json``: then stdout holds exactly one JSON
document and everything else (progress, logs) goes to stderr. The project is found by
``--config``, ``$RAGOPS_CONFIG`` or ``./ragops.yaml``. A usage error (a missing argument, an
unknown option) prints one line, the error, the usage and where the help is, and exits 2.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

__all__ = [
    "ConfigOption",
    "JsonOption",
    "app",
    "open_project",
    "parse_filters",
    "parse_principals",
    "project_session",
    "stdout_to_stderr",
]

#: Exit status of a usage error (Click's convention; a failed command exits 1).
EXIT_USAGE = 2


class _OneLineUsageErrors(TyperGroup):
    """Usage errors as one line on stderr (and a JSON error with ``--json``), status 2."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        def call() -> Any:
            return super(_OneLineUsageErrors, self).main(
                args, prog_name, complete_var, False, windows_expand_args, **extra
            )

        if not standalone_mode:
            return call()
        argv = list(args if args is not None else sys.argv[1:])
        try:
            code = call()
        except typer.TyperException as exc:  # Click's usage errors (Typer vendors Click)
            _usage_error(exc, as_json="--json" in argv)
            sys.exit(getattr(exc, "exit_code", EXIT_USAGE))
        except typer.Abort:
            sys.stderr.write("aborted\n")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _usage_error(exc: typer.TyperException, *, as_json: bool) -> None:
    from ragops.cli.console import emit_json

    message = str(getattr(exc, "format_message", exc.__str__)()).rstrip(".")
    context = getattr(exc, "ctx", None)
    if context is not None:
        usage = context.get_usage().replace("Usage: ", "usage: ", 1)
        usage = usage.replace("{", "").replace("}", "")  # Typer's mark of a required argument
        message += f". {usage} (`{context.command_path} --help` for more)"
    if as_json:
        emit_json({"error": {"type": exc.__class__.__name__, "message": message}})
    sys.stderr.write(f"error: {message}\n")


app = typer.Typer(
    name="ragops",
    cls=_OneLineUsageErrors,
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


def parse_principals(values: list[str] | None) -> list[str] | None:
    """``--as PRINCIPAL`` options, checked (None: none given, read every document)."""
    from ragops.access.principals import principal_problem

    for value in values or []:
        problem = principal_problem(value)
        if problem is not None:
            raise typer.BadParameter(f"--as: {problem}")
    return list(values) if values else None


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
