"""``ragops ui``: the Dagster UI for this project's code location.

``dagster dev`` runs the webserver, the daemon, a code server and, per run, a worker. It is
started in a process group of its own; Ctrl-C (SIGINT) or SIGTERM to ``ragops ui`` is passed
to that whole group, and whatever is still alive after a grace period is killed, so stopping
``ragops ui`` never leaves a webserver or a daemon behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ragops.cli.app import app, state
from ragops.cli.console import err, errors

#: Seconds ``dagster dev`` and its children get to stop before they are killed.
GRACE_SECONDS = 20.0


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1")] = 3000,
) -> None:
    """Start the Dagster UI for this project's code location (lineage, runs, evals)."""
    from ragops._offline import offline_environment
    from ragops.config import find_config, load_config

    with errors():
        config_path = find_config(state.config)
        home = load_config(config_path).dagster_home()
    # no telemetry or hub access in the webserver, daemon and run workers
    env = offline_environment({**os.environ, "RAGOPS_CONFIG": str(config_path)})
    env["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    instance = home / "dagster.yaml"
    if not instance.exists():
        instance.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    _catch_up(config_path, home)
    command = [
        sys.executable, "-m", "ragops.integrations.dagster_dev", "dev", "-m", "dagster_defs",
        "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    err.print(f"Dagster UI on http://127.0.0.1:{port} (Ctrl-C to stop); DAGSTER_HOME={home}")
    raise typer.Exit(run_process_group(command, env=env))


def _catch_up(config_path: Path, home: Path) -> None:
    """Record in the instance what the CLI and the API did before it existed (or while the
    project did not record there), so the UI's history starts complete."""
    from ragops.events.history import catch_up
    from ragops.project import Project

    with errors(), Project.open(config_path, events=None) as project:
        replayed = catch_up(project, home)
    if replayed.total:
        err.print(f"recorded from the catalog in the Dagster instance: {replayed.describe()}")


def run_process_group(command: list[str], *, env: dict[str, str]) -> int:
    """Run ``command`` in its own process group until it exits or this process is asked to
    stop (SIGINT, SIGTERM), then make sure nothing of the group is left. Its exit status
    (0 when it was stopped on request).

    The handlers are installed before the child starts: a signal this process inherited as
    ignored (``ragops ui &`` from a script ignores SIGINT) would otherwise be ignored by the
    child too, and ``dagster dev`` maps SIGTERM to SIGINT's handler, so it would ignore both.
    A handled signal is reset to its default in the child when it starts.
    """
    stopping: list[float] = []
    group: list[int] = []

    def forward(signum: int, _frame: Any) -> None:
        stopping.append(time.monotonic())
        if group:
            _signal_group(group[0], signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        process = subprocess.Popen(command, env=env, start_new_session=True)
        group.append(process.pid)
        if stopping:  # asked to stop while it was starting
            _signal_group(process.pid, signal.SIGTERM)
        while True:
            try:
                code = process.wait(timeout=1.0)
                break
            except subprocess.TimeoutExpired:
                if stopping and time.monotonic() - stopping[0] > GRACE_SECONDS:
                    code = -signal.SIGKILL  # it did not stop in time: killed below
                    break
    finally:
        if group:
            _stop_group(group[0])
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if stopping else code


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to the group; False when nothing of it is left."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def _stop_group(pgid: int) -> None:
    """SIGTERM what is left of the group, then SIGKILL it after the grace period."""
    if not _signal_group(pgid, signal.SIGTERM):
        return
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline:
        if not _signal_group(pgid, 0):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
