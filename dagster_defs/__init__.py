"""ragops' Dagster code location: ``dagster dev -m dagster_defs`` (or ``ragops ui``).

``defs`` is built on first access from the project found by ``$RAGOPS_CONFIG`` or
``./ragops.yaml``, so importing this package (to call :func:`build_definitions` on another
project, as the tests do) reads no configuration.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

# The code location uses a few beta and preview APIs on purpose (observable source assets,
# declarative automation), pinned to the Dagster minor version in constraints.txt: their
# warnings would print in every process that loads it (webserver, daemon, each run).
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

from dagster_defs.definitions import MAIN_JOB, SOURCES_SENSOR, build_definitions  # noqa: E402
from dagster_defs.resources import RagopsResource  # noqa: E402

if TYPE_CHECKING:  # pragma: no cover
    defs: dg.Definitions

__all__ = ["MAIN_JOB", "SOURCES_SENSOR", "RagopsResource", "build_definitions", "defs"]

_built: dict[Path, Any] = {}


def __getattr__(name: str) -> Any:
    if name == "defs":
        from ragops.config import find_config

        path = find_config()
        if path not in _built:
            _built[path] = build_definitions(path)
        return _built[path]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "defs"])
