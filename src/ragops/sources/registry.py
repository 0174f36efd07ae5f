"""Finding a project's connectors: the built-ins plus the project's own ``connectors/`` folder.

There is no process-wide registry. A :class:`ConnectorRegistry` belongs to one project folder;
project connectors are imported by path under a module name derived from that path, so two
projects with a connector folder of the same name each run their own code.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import pkgutil
import sys
import threading
from pathlib import Path
from types import ModuleType

from ragops.errors import ConfigError
from ragops.sources.sdk import Connector, connector_of

__all__ = ["ConnectorRegistry"]

_import_lock = threading.Lock()


class ConnectorRegistry:
    """The connectors a project can use, by name (built-ins and ``<project>/connectors/*``)."""

    def __init__(self, project_dir: Path | None = None) -> None:
        self.project_dir = project_dir
        self._connectors: dict[str, Connector] | None = None

    def get(self, name: str) -> Connector:
        """The connector called ``name``; ConfigError listing the known ones when there is none."""
        connectors = self.all()
        if name not in connectors:
            close = difflib.get_close_matches(name, connectors, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"unknown connector {name!r}{hint}; known: {', '.join(sorted(connectors))}. "
                "Write your own in connectors/<name>/__init__.py with @ragops.connector"
            )
        return connectors[name]

    def all(self) -> dict[str, Connector]:
        if self._connectors is None:
            found: dict[str, Connector] = {}
            for module in _builtin_modules():
                _collect(module, found)
            for module in self._project_modules():
                _collect(module, found)
            self._connectors = found
        return dict(self._connectors)

    def _project_modules(self) -> list[ModuleType]:
        if self.project_dir is None:
            return []
        folder = (self.project_dir / "connectors").resolve()
        if not folder.is_dir() or folder in _builtin_dirs():
            return []
        return [_import_by_path(init) for init in sorted(folder.glob("*/__init__.py"))]


def _collect(module: ModuleType, found: dict[str, Connector]) -> None:
    for value in vars(module).values():
        candidate = connector_of(value)
        if candidate is None:
            continue
        existing = found.get(candidate.name)
        if existing is not None and existing.function is not candidate.function:
            raise ConfigError(
                f"two connectors are named {candidate.name!r}: {existing.defined_in} and "
                f"{candidate.defined_in}; rename one (@connector('other-name'))"
            )
        found[candidate.name] = candidate


def _builtin_modules() -> list[ModuleType]:
    import ragops_connectors  # connectors/ in the repository

    return [
        importlib.import_module(f"ragops_connectors.{info.name}")
        for info in pkgutil.iter_modules(ragops_connectors.__path__)
    ]


def _builtin_dirs() -> set[Path]:
    import ragops_connectors

    return {Path(p).resolve() for p in ragops_connectors.__path__}


def _import_by_path(init: Path) -> ModuleType:
    """Import ``<folder>/__init__.py`` under a name unique to its path and content version."""
    folder = init.parent
    stamp = f"{folder}\0{init.stat().st_mtime_ns}"
    digest = hashlib.sha1(stamp.encode()).hexdigest()[:12]
    module_name = f"ragops_project_connectors.c{digest}_{folder.name.replace('-', '_')}"
    with _import_lock:
        module = sys.modules.get(module_name)
        if module is not None:
            return module
        spec = importlib.util.spec_from_file_location(
            module_name, init, submodule_search_locations=[str(folder)]
        )
        if spec is None or spec.loader is None:
            raise ConfigError(f"cannot import connector {init}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[module_name]
            raise ConfigError(
                f"connector {folder.name!r} failed to import from {init}: "
                f"{exc.__class__.__name__}: {exc}"
            ) from exc
        return module
