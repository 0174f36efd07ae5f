"""ragops' Dagster code location: ``dagster dev -m dagster_defs`` (or ``ragops ui``).

``defs`` is built on first access from the project found by ``$RAGOPS_CONFIG`` or
``./ragops.yaml``, so importing this package (to call :func:`build_definitions` on another
project, as the tests do) reads no configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster_defs.definitions import MAIN_JOB, SOURCES_SENSOR, build_definitions
from dagster_defs.resources import RagopsResource

if TYPE_CHECKING:  # pragma: no cover
    import dagster as dg

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
