"""The connector SDK: how a source hands documents to ragops.

A connector is one generator function under :func:`connector`. Its keyword arguments are its
options, filled from the source's entry in ``ragops.yaml`` and checked against the signature
before any work starts::

    from ragops.connectors import SourceDocument, connector

    @connector("notes")
    def notes(folder: str, suffix: str = ".txt") -> Iterator[SourceDocument]:
        for path in sorted(Path(folder).glob(f"*{suffix}")):
            stat = path.stat()
            yield SourceDocument(
                doc_id=path.name,                       # stable across runs
                version=f"{stat.st_mtime_ns}:{stat.st_size}",  # cheap change marker
                filename=path.name,
                load=path.read_bytes,                   # only called when the marker changed
            )

ragops owns the state: it compares ``version`` markers with what it indexed last time, calls
``load()`` only for new or changed documents, confirms a change by content hash, and treats a
document that is no longer yielded as deleted (only when the listing finished without error).

Connectors live in ``connectors/<name>/__init__.py``: the built-ins ship in the repository's
``connectors/`` folder, installed as the ``ragops_connectors`` package; a project's own are
loaded by path from its ``connectors/`` folder.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import pkgutil
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ragops.errors import ConfigError, ConnectorError

__all__ = [
    "Connector",
    "SourceDocument",
    "connector",
    "discover_connectors",
    "get_connector",
]


@dataclass(frozen=True)
class SourceDocument:
    """One document as a connector yields it.

    Attributes:
        doc_id: stable identifier within the source (a relative path, a URL, a record id).
        version: cheap change marker (mtime and size, an etag, an updated-at); when it equals the
            last indexed one, the document is not read at all.
        filename: a name with the file extension; parsing uses it to pick a partitioner.
        load: returns the raw bytes; called only for new or changed documents.
        mime_type: when known (otherwise detected from the name and content).
        metadata: JSON-serialisable values stored with every chunk (filterable in search).
        acl: principals allowed to read the document (stored with every chunk).
    """

    doc_id: str
    version: str
    filename: str
    load: Callable[[], bytes] = field(repr=False)
    mime_type: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    acl: tuple[str, ...] = ()


@dataclass(frozen=True)
class Connector:
    """A registered connector: its name, its function and where it was defined."""

    name: str
    function: Callable[..., Iterator[SourceDocument]]
    defined_in: str

    def options_model(self) -> type[BaseModel]:
        """A pydantic model of the function's keyword arguments (its options)."""
        fields: dict[str, Any] = {}
        for param in inspect.signature(self.function).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if param.name in INJECTED_PARAMETERS:
                continue
            annotation = param.annotation if param.annotation is not param.empty else Any
            default = ... if param.default is param.empty else param.default
            fields[param.name] = (annotation, default)
        return create_model(f"{self.name}_options", __config__=ConfigDict(extra="forbid"), **fields)

    def validate_options(self, source_name: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """Check a source's options against the signature; ConfigError names key, value, fix."""
        try:
            validated = self.options_model().model_validate(dict(options))
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                key = ".".join(str(part) for part in error["loc"])
                where = f"sources.{source_name}.{key}"
                if error["type"] == "extra_forbidden":
                    allowed = ", ".join(self.option_names()) or "(none)"
                    close = difflib.get_close_matches(key, self.option_names(), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    problems.append(
                        f"  - {where}: connector {self.name!r} has no option "
                        f"{key!r}{hint}; its options: {allowed}"
                    )
                elif error["type"] == "missing":
                    problems.append(f"  - {where}: required by connector {self.name!r}; add it")
                else:
                    problems.append(f"  - {where} = {error.get('input')!r}: {error['msg']}")
            raise ConfigError(
                f"source {source_name!r} (connector {self.name!r}, {self.defined_in}):\n"
                + "\n".join(problems)
            ) from None
        return validated.model_dump()

    def option_names(self) -> list[str]:
        return [
            p.name
            for p in inspect.signature(self.function).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in INJECTED_PARAMETERS
        ]

    def iter_documents(
        self, source_name: str, options: Mapping[str, Any], project_dir: Path | None = None
    ) -> Iterator[SourceDocument]:
        """Run the connector. Errors of the connector itself come out as ConnectorError."""
        arguments = dict(options)
        if "project_dir" in inspect.signature(self.function).parameters and project_dir:
            arguments["project_dir"] = str(project_dir)
        try:
            for document in self.function(**arguments):
                if not isinstance(document, SourceDocument):
                    raise ConnectorError(
                        f"source {source_name!r}: connector {self.name!r} yielded "
                        f"{type(document).__name__}, expected ragops.connectors.SourceDocument"
                    )
                yield document
        except ConnectorError:
            raise
        except Exception as exc:
            raise ConnectorError(
                f"source {source_name!r}: connector {self.name!r} failed while listing documents: "
                f"{exc.__class__.__name__}: {exc}"
            ) from exc


_REGISTRY: dict[str, Connector] = {}

#: Parameters ragops fills in itself; they are not options a user sets in ragops.yaml.
INJECTED_PARAMETERS = frozenset({"project_dir"})


def connector(
    name: str | None = None,
) -> Callable[[Callable[..., Iterator[SourceDocument]]], Callable[..., Iterator[SourceDocument]]]:
    """Register a generator function as a connector named ``name`` (default: its own name).

    Raises ConfigError when another function already took the name.
    """

    def register(
        function: Callable[..., Iterator[SourceDocument]],
    ) -> Callable[..., Iterator[SourceDocument]]:
        connector_name = name or function.__name__
        defined_in = inspect.getsourcefile(function) or function.__module__
        existing = _REGISTRY.get(connector_name)
        if (
            existing is not None
            and Path(existing.defined_in).resolve() != Path(defined_in).resolve()
        ):
            raise ConfigError(
                f"two connectors are named {connector_name!r}: {existing.defined_in} and "
                f"{defined_in}; rename one (@connector('other-name'))"
            )
        _REGISTRY[connector_name] = Connector(connector_name, function, defined_in)
        return function

    return register


def discover_connectors(project_dir: Path | None = None) -> dict[str, Connector]:
    """Import the built-in connectors and those in ``project_dir/connectors/``; return them all."""
    import ragops_connectors as builtin_package  # connectors/ in the repository

    for module in pkgutil.iter_modules(builtin_package.__path__):
        importlib.import_module(f"ragops_connectors.{module.name}")
    builtin_dirs = {Path(p).resolve() for p in builtin_package.__path__}
    if project_dir is not None:
        folder = (project_dir / "connectors").resolve()
        if folder.is_dir() and folder not in builtin_dirs:
            for init in sorted(folder.glob("*/__init__.py")):
                _import_project_connector(init)
    return dict(_REGISTRY)


def _import_project_connector(init: Path) -> None:
    module_name = f"ragops_project_connectors.{init.parent.name}"
    if module_name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        module_name, init, submodule_search_locations=[str(init.parent)]
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
            f"connector {init.parent.name!r} failed to import from {init}: "
            f"{exc.__class__.__name__}: {exc}"
        ) from exc


def get_connector(name: str, project_dir: Path | None = None) -> Connector:
    """The connector called ``name``; ConfigError listing the known ones when there is none."""
    registry = discover_connectors(project_dir)
    if name not in registry:
        close = difflib.get_close_matches(name, registry, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            f"unknown connector {name!r}{hint}; known: {', '.join(sorted(registry))}. "
            "Write your own in connectors/<name>/__init__.py with @ragops.connectors.connector"
        )
    return registry[name]
