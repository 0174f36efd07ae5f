"""What every ``ragops`` command shares: the consoles, JSON output and error reporting.

With ``--json`` stdout holds exactly one JSON document (on failure: ``{"error": {...}}``);
messages go to stderr. A :class:`~ragops.errors.RagopsError` ends the command with status 1
and its message, printed verbatim (never read as Rich markup).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from ragops.errors import RagopsError

__all__ = ["emit_json", "err", "errors", "out"]

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


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
