"""Fault points for the crash and concurrency tests.

``RAGOPS_KILL_AT=<name>`` SIGKILLs the process at checkpoint ``name``; the kill tests run a
real sync (or retention run) in a subprocess with it set and check that the next run ends
with exactly the right contents.

``RAGOPS_PAUSE_AT=<name>`` with ``RAGOPS_PAUSE_FILE=<path>`` stops there until ``<path>``
exists (creating ``<path>.reached`` first, up to 5 minutes): a test can then act while the
process is in the middle of a step, e.g. sync from the CLI while a Dagster run waits between
its eval and its promotion.

Unset (always, outside those tests), a checkpoint costs two dictionary lookups.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

__all__ = ["CHECKPOINTS", "RETENTION_CHECKPOINTS", "checkpoint"]

#: Where a sync is most dangerous to die: points written but not committed, old points
#: closed, version committed but lease still held.
CHECKPOINTS = (
    "after_recovery",
    "after_first_write",
    "after_close",
    "before_commit",
    "after_commit",
)

#: Where retention is most dangerous to die: versions marked pruned, points deleted, a
#: collection dropped before its catalog rows.
RETENTION_CHECKPOINTS = ("after_mark_pruned", "after_delete_points", "after_drop_collection")


def checkpoint(name: str) -> None:
    """Die here (``RAGOPS_KILL_AT``) or wait here (``RAGOPS_PAUSE_AT``) when asked to."""
    if os.environ.get("RAGOPS_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("RAGOPS_PAUSE_AT") == name:
        release = Path(os.environ["RAGOPS_PAUSE_FILE"])
        release.with_name(release.name + ".reached").touch()
        deadline = time.monotonic() + 300
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
