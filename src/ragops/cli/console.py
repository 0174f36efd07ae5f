"""What every ``ragops`` command shares: the consoles, tables, JSON output and errors.

With ``--json`` stdout holds exactly one JSON document (on failure: ``{"error": {...}}``);
messages go to stderr. A :class:`~ragops.errors.RagopsError` ends the command with status 1
and its message, printed verbatim (never read as Rich markup). Lines are never hard-wrapped
(a terminal wraps them itself); tables fit the terminal, and when stdout is piped they take
the width their content needs, so ``grep`` and ``less -S`` see whole rows.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from ragops.errors import RagopsError

__all__ = ["emit_json", "err", "errors", "out", "print_table", "ragops_command"]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_table(table: Table, console: Console = out) -> None:
    """``table`` at the terminal's width; piped, at the width its content needs."""
    if console.is_terminal:
        console.print(table)
        return
    natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
    saved = console.width
    console.width = max(natural, 20)
    try:
        console.print(table)
    finally:
        console.width = saved


def ragops_command() -> str:
    """How to call this ragops again from a shell: ``ragops`` when that name on ``PATH`` is
    this installation, else the full path of its script (or ``python -m ragops.cli``)."""
    script = Path(sys.executable).parent / "ragops"
    on_path = shutil.which("ragops")
    if on_path is not None and script.is_file() and os.path.samefile(on_path, script):
        return "ragops"
    if script.is_file():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m ragops.cli"


def emit_json(document: Any) -> None:
    """Write ``document`` as the one JSON document on stdout."""
    sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def errors(as_json: bool = False) -> Iterator[None]:
    """Turn a RagopsError into its message on stderr (and a JSON error) and exit status 1."""
    try:
        yield
    except RagopsError as exc:
        message = str(exc)
        if as_json:
            emit_json({"error": {"type": exc.__class__.__name__, "message": message}})
        err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
        raise typer.Exit(code=1) from None
