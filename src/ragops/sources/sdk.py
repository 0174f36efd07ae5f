"""The connector SDK: how a source hands documents to ragops.

A connector is one generator function under :func:`connector`. Its keyword arguments are its
options, filled from the source's entry in ``ragops.yaml`` and checked against the signature
before any work starts::

    from ragops import SourceDocument, connector

    @connector("notes")
    def notes(folder: str, suffix: str = ".txt") -> Iterator[SourceDocument]:
        for path in sorted(Path(folder).glob(f"*{suffix}")):
            stat = path.stat()
            yield SourceDocument(
                doc_id=path.name,                       # stable across runs, unique in the source
                version=f"{stat.st_mtime_ns}:{stat.st_size}",  # cheap change marker
                filename=path.name,
                load=path.read_bytes,                   # only called when the marker changed
            )

ragops owns the state: it compares ``version`` markers with what it indexed last time, calls
``load()`` only for new or changed documents, confirms a change by content hash, and treats a
document that is no longer yielded as deleted (only when the listing finished without error).
A listing that yields one ``doc_id`` twice is a connector bug: the sync stops, names the ids
and deletes nothing.

A connector that can ask its source for what changed declares an incremental cursor and may
yield :class:`~ragops.sources.incremental.Unchanged` ids for the rest (see
:mod:`ragops.sources.incremental`); ragops keeps the cursor between syncs.

Connectors live in ``connectors/<name>/__init__.py``: the built-ins ship in the repository's
``connectors/`` folder, installed as the ``ragops_connectors`` package; a project's own are
loaded by path from its ``connectors/`` folder (see :mod:`ragops.sources.registry`).
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ragops.errors import ConfigError, ConnectorError
from ragops.sources.incremental import (
    Incremental,
    SourceMemory,
    SourceState,
    Unchanged,
    check_state,
    iter_cursor_values,
    options_sha256,
)

__all__ = [
    "INJECTED_PARAMETERS",
    "Connector",
    "Listing",
    "SourceDocument",
    "connector",
    "connector_of",
    "document_problem",
]

#: Parameters ragops fills in itself by name; they are not options a user sets in ragops.yaml.
#: (Parameters with an :class:`Incremental` default or of type :class:`SourceState` are filled
#: in too.)
INJECTED_PARAMETERS = frozenset({"project_dir"})

#: The attribute :func:`connector` sets on a connector function.
_MARK = "__ragops_connector__"


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
        metadata: values stored with every chunk and filterable in search: JSON values (str,
            int, finite float, bool, None, and lists or mappings of them); store flags you
            filter on as 0/1. Keep values that
            describe the document, not the bytes (no sizes or read times): a change here
            rewrites every chunk of the document (without re-embedding).
        acl: principals allowed to read the document (stored with every chunk).
        size: the document's size in bytes when the source knows it (shown in listings,
            never stored with chunks).
    """

    doc_id: str
    version: str
    filename: str
    load: Callable[[], bytes] = field(repr=False)
    mime_type: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    acl: tuple[str, ...] = ()
    size: int | None = None


@dataclass
class Listing:
    """One complete, checked run of a connector."""

    #: Documents yielded in full (read when new or changed).
    documents: list[SourceDocument]
    #: Ids yielded only as :class:`Unchanged`: ragops keeps what it holds for them.
    unchanged: list[str]
    #: Cursors and state to save when the version built from this listing commits.
    memory: SourceMemory
    #: True when the run started from a saved cursor or state (not a full listing).
    incremental: bool = False


@dataclass(frozen=True)
class Connector:
    """A registered connector: its name, its function and where it was defined."""

    name: str
    function: Callable[..., Iterator[SourceDocument]]
    defined_in: str

    def options_model(self) -> type[BaseModel]:
        """A pydantic model of the function's keyword arguments (its options)."""
        fields: dict[str, Any] = {}
        for param in self._option_parameters():
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
        return [p.name for p in self._option_parameters()]

    def _option_parameters(self) -> list[inspect.Parameter]:
        return [
            p
            for p in inspect.signature(self.function).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and not _is_injected(p)
        ]

    def cursors(self) -> dict[str, Incremental[Any]]:
        """parameter name → the :class:`Incremental` it declares as its default."""
        return {
            p.name: p.default
            for p in inspect.signature(self.function).parameters.values()
            if isinstance(p.default, Incremental)
        }

    def keeps_memory(self) -> bool:
        """True when the connector declares a cursor or a :class:`SourceState`."""
        return any(
            isinstance(p.default, Incremental) or _is_state(p)
            for p in inspect.signature(self.function).parameters.values()
        )

    def iter_documents(
        self,
        source_name: str,
        options: Mapping[str, Any],
        project_dir: Path | None = None,
        *,
        cursors: Mapping[str, Incremental[Any]] | None = None,
        state: SourceState | None = None,
    ) -> Iterator[SourceDocument | Unchanged]:
        """Run the connector. Errors of the connector itself come out as ConnectorError.

        ``cursors`` and ``state`` are passed to the parameters that declare them (fresh ones
        when not given); cursors with a ``cursor_path`` observe each yielded document.
        """
        arguments = dict(options)
        parameters = inspect.signature(self.function).parameters
        if "project_dir" in parameters and project_dir:
            arguments["project_dir"] = str(project_dir)
        cursors = dict(cursors) if cursors is not None else {
            name: default.fresh(None) for name, default in self.cursors().items()
        }  # fmt: skip
        arguments.update(cursors)
        for param in parameters.values():
            if _is_state(param):
                arguments[param.name] = state if state is not None else SourceState()
        try:
            for document in self.function(**arguments):
                if isinstance(document, Unchanged):
                    if not isinstance(document.doc_id, str) or not document.doc_id:
                        raise ConnectorError(
                            f"source {source_name!r}: connector {self.name!r} yielded "
                            f"Unchanged({document.doc_id!r}): the id must be a non-empty str"
                        )
                    yield document
                    continue
                if not isinstance(document, SourceDocument):
                    raise ConnectorError(
                        f"source {source_name!r}: connector {self.name!r} yielded "
                        f"{type(document).__name__}, expected ragops.SourceDocument "
                        "or ragops.Unchanged"
                    )
                problem = document_problem(document)
                if problem is not None:
                    raise ConnectorError(
                        f"source {source_name!r}: connector {self.name!r} ({self.defined_in}) "
                        f"yielded document {document.doc_id!r} with {problem}"
                    )
                for cursor in cursors.values():
                    _observe(cursor, document)
                yield document
        except ConnectorError:
            raise
        except Exception as exc:
            raise ConnectorError(
                f"source {source_name!r}: connector {self.name!r} failed while listing documents: "
                f"{exc.__class__.__name__}: {exc}"
            ) from exc

    def list_documents(
        self, source_name: str, options: Mapping[str, Any], project_dir: Path | None = None
    ) -> list[SourceDocument]:
        """The whole listing of a source with no saved cursor or state, checked (see
        :meth:`listing`)."""
        return self.listing(source_name, options, project_dir).documents

    def listing(
        self,
        source_name: str,
        options: Mapping[str, Any],
        project_dir: Path | None = None,
        memory: SourceMemory | None = None,
    ) -> Listing:
        """Run the connector from ``memory`` (what the last successful sync saved; None, or
        saved under other options: a full listing) and check the result: a ``doc_id`` yielded
        twice in full is a ConnectorError naming the ids (nothing may be deleted on a listing
        that is wrong)."""
        under = options_sha256(options)
        if memory is None or memory.options_sha256 not in (None, under):
            memory = SourceMemory()
        cursors = {
            name: default.fresh(memory.cursors.get(name))
            for name, default in self.cursors().items()
        }
        state = SourceState(memory.state)
        yielded = list(
            self.iter_documents(source_name, options, project_dir, cursors=cursors, state=state)
        )
        documents = [d for d in yielded if isinstance(d, SourceDocument)]
        full = {d.doc_id for d in documents}
        unchanged = list(
            dict.fromkeys(
                d.doc_id for d in yielded if isinstance(d, Unchanged) and d.doc_id not in full
            )
        )
        counts: dict[str, int] = {}
        for document in documents:
            counts[document.doc_id] = counts.get(document.doc_id, 0) + 1
        repeated = [doc_id for doc_id, count in counts.items() if count > 1]
        if repeated:
            shown = ", ".join(repr(d) for d in repeated[:5])
            more = f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
            raise ConnectorError(
                f"source {source_name!r}: connector {self.name!r} yielded the same doc_id more "
                f"than once ({len(documents)} documents, {len(counts)} distinct ids): "
                f"{shown}{more}. A doc_id must be unique within a source: fix the connector "
                f"({self.defined_in}); nothing was changed in the index"
            )
        saved = SourceMemory(
            dict(iter_cursor_values(cursors)), check_state(source_name, state), under
        )
        return Listing(documents, unchanged, saved, incremental=not memory.is_empty())


def _is_state(param: inspect.Parameter) -> bool:
    annotation = param.annotation
    if annotation is SourceState:
        return True
    return isinstance(annotation, str) and annotation.split(".")[-1] == "SourceState"


def _is_injected(param: inspect.Parameter) -> bool:
    return (
        param.name in INJECTED_PARAMETERS
        or isinstance(param.default, Incremental)
        or _is_state(param)
    )


def _observe(cursor: Incremental[Any], document: SourceDocument) -> None:
    """Move ``cursor`` with ``document``'s value at its cursor path (when it has one)."""
    path = cursor.cursor_path
    if path is None:
        return
    value = document.version if path == "version" else document.metadata.get(path)
    cursor.observe(value)


def document_problem(document: SourceDocument) -> str | None:
    """None when ``document`` keeps the SDK's rules; else what is wrong and the fix.

    ``doc_id``, ``version`` and ``filename`` are non-empty strings; ``metadata`` maps string
    keys to JSON values (str, int, finite float, bool, None, and lists or mappings of them);
    ``acl`` is a sequence of non-empty strings.
    """
    for name in ("doc_id", "version", "filename"):
        value = getattr(document, name)
        if not isinstance(value, str) or not value:
            fix = " (e.g. updated_at.isoformat() or str(etag))" if name == "version" else ""
            return f"{name}={value!r} ({type(value).__name__}): it must be a non-empty str{fix}"
    for key, value in document.metadata.items():
        if not isinstance(key, str):
            return f"metadata key {key!r} ({type(key).__name__}): metadata keys must be str"
        bad = _non_json(value)
        if bad is not None:
            return (
                f"metadata[{key!r}] holding {bad!r} ({type(bad).__name__}): metadata values must "
                "be JSON values (str, int, finite float, bool, None, lists and mappings of them); "
                "convert it, e.g. a datetime with .isoformat()"
            )
    if isinstance(document.acl, str) or not all(isinstance(p, str) and p for p in document.acl):
        return (
            f"acl={document.acl!r}: acl must be a sequence of principal names such as "
            "('group:eng', 'user:alice'), not a single string"
        )
    return None


def _non_json(value: Any) -> Any:
    """The first part of ``value`` that is not a JSON value, or None."""
    if value is None or isinstance(value, str | bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else value
    if isinstance(value, list | tuple):
        return next((bad for item in value if (bad := _non_json(item)) is not None), None)
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return key
            bad = _non_json(item)
            if bad is not None:
                return bad
        return None
    return value


def connector(
    name: str | None = None,
) -> Callable[[Callable[..., Iterator[SourceDocument]]], Callable[..., Iterator[SourceDocument]]]:
    """Mark a generator function as the connector ``name`` (default: the function's name).

    The function is returned unchanged. Nothing is registered globally: each project finds the
    connectors of its own ``connectors/`` folder and the built-ins (see
    :class:`ragops.sources.ConnectorRegistry`), so two projects in one process never share one.
    """

    def mark(
        function: Callable[..., Iterator[SourceDocument]],
    ) -> Callable[..., Iterator[SourceDocument]]:
        defined_in = inspect.getsourcefile(function) or function.__module__
        setattr(function, _MARK, Connector(name or function.__name__, function, defined_in))
        return function

    return mark


def connector_of(value: Any) -> Connector | None:
    """The :class:`Connector` a function decorated with :func:`connector` carries, or None."""
    found = getattr(value, _MARK, None) if callable(value) else None
    return found if isinstance(found, Connector) else None
