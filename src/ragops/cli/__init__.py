"""The ``ragops`` command line (Typer + Rich): a face over the library, holding no logic of
its own. One module per group of commands; they all register on :data:`ragops.cli.app.app`."""

from __future__ import annotations

from ragops.cli import (  # noqa: F401  (registers commands)
    data,
    evals,
    index,
    lifecycle,
    queries,
    serve,
    ui,
)
from ragops.cli.app import app
from ragops.cli.keys import keys_app
from ragops.cli.prompts import prompts_app
from ragops.cli.sources import sources_app

app.add_typer(prompts_app, name="prompts")
app.add_typer(keys_app, name="keys")
app.add_typer(sources_app, name="sources")

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app(prog_name="ragops")
