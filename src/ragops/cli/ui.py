"""``ragops ui``: the Dagster UI for this project's code location."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from ragops.cli.app import app, state
from ragops.cli.console import err, errors


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1")] = 3000,
) -> None:
    """Start the Dagster UI for this project's code location (lineage, runs, evals)."""
    from ragops._offline import offline_environment
    from ragops.config import find_config, load_config

    with errors():
        config_path = find_config(state.config)
        data_path = load_config(config_path).data_path
    # no telemetry or hub access in the webserver, daemon and run workers
    env = offline_environment({**os.environ, "RAGOPS_CONFIG": str(config_path)})
    env.setdefault("DAGSTER_HOME", str(data_path / "dagster"))
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    instance = home / "dagster.yaml"
    if not instance.exists():
        instance.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    command = [
        sys.executable, "-m", "dagster", "dev", "-m", "dagster_defs",
        "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    err.print(f"Dagster UI on http://127.0.0.1:{port} (Ctrl-C to stop)")
    raise typer.Exit(subprocess.call(command, env=env))
