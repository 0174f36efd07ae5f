"""``ragops serve``: the project over HTTP (see :mod:`ragops.serve`)."""

from __future__ import annotations

from typing import Annotated

import typer

from ragops.cli.app import app, state
from ragops.cli.console import err, errors


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8080,
) -> None:
    """Serve the project over HTTP: search, versions, promotion and syncs, with API keys
    (`ragops keys create`). OpenAPI at /docs; Ctrl-C or SIGTERM stops it gracefully."""
    from ragops.serve import serve as run_server

    err.print(f"ragops server on http://{host}:{port} (docs at /docs); Ctrl-C to stop")
    with errors():
        run_server(state.config, host=host, port=port)
