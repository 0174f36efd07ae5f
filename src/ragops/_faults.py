"""Crash points for the kill tests: ``RAGOPS_KILL_AT=<name>`` SIGKILLs the process there.

The sync calls :func:`checkpoint` at the moments where a crash is most dangerous (points
written but not committed, old points closed, version committed but lock still held). The
tests run a real sync in a subprocess with the variable set and check that the next sync ends
with exactly the right contents. Unset (always, outside those tests), a checkpoint costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal

__all__ = ["CHECKPOINTS", "checkpoint"]

CHECKPOINTS = (
    "after_recovery",
    "after_first_write",
    "after_close",
    "before_commit",
    "after_commit",
)


def checkpoint(name: str) -> None:
    """Die here, by SIGKILL, when ``RAGOPS_KILL_AT`` names this point."""
    if os.environ.get("RAGOPS_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
