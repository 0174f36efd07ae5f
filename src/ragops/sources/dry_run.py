"""What a source's connector yields, without reading a document or touching an index: the
dry run a data engineer runs first (``ragops sources test SOURCE``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragops.config.models import did_you_mean
from ragops.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

__all__ = ["SourceListing", "preview_source"]


@dataclass(frozen=True)
class SourceListing:
    source: str
    connector: str
    documents: int
    #: Total bytes when the connector reports every size, else None.
    bytes: int | None
    seconds: float
    #: The first documents (as many as asked), each as the index would record it.
    shown: list[dict[str, Any]]
    #: The indexes this source feeds.
    indexes: list[str]
    #: index -> the cursors its connector saved at that index's last sync (decoded values).
    cursors: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "connector": self.connector, "documents": self.documents,
            "bytes": self.bytes, "seconds": self.seconds, "indexes": self.indexes,
            "cursors": self.cursors, "shown": self.shown,
        }  # fmt: skip


def preview_source(project: Project, source: str, limit: int | None = 20) -> SourceListing:
    """List ``source`` in full, as a sync without saved cursors would (checked:
    ConnectorError on a broken listing), reading no document, writing nothing; the first
    ``limit`` documents in detail (None: all), and the cursors each index saved."""
    from ragops.versions.plan import list_sources

    if source not in project.config.sources:
        names = list(project.config.sources)
        raise ConfigError(
            f"unknown source {source!r}{did_you_mean(source, names)}; sources: {', '.join(names)}"
        )
    started = time.perf_counter()
    listed = list_sources(project, [source])
    seconds = time.perf_counter() - started
    sizes = [item.document.size for item in listed]
    shown = [
        {
            "doc_id": item.document.doc_id,
            "version": item.document.version,
            "filename": item.document.filename,
            "size": item.document.size,
            "mime_type": item.document.mime_type,
            "acl": list(item.document.acl),
            "metadata": dict(item.document.metadata),
        }
        for item in (listed if limit is None else listed[:limit])
    ]
    indexes = [n for n, index in project.config.indexes.items() if source in index.sources]
    return SourceListing(
        cursors=_saved_cursors(project, source, indexes),
        source=source,
        connector=project.config.sources[source].connector,
        documents=len(listed),
        bytes=sum(s for s in sizes if s is not None) if all(s is not None for s in sizes) else None,
        seconds=round(seconds, 3),
        shown=shown,
        indexes=indexes,
    )


def _saved_cursors(project: Project, source: str, indexes: list[str]) -> dict[str, Any]:
    """index -> {cursor: value} its connector saved at the index's newest generation."""
    from ragops.sources.incremental import decode_cursor

    saved: dict[str, Any] = {}
    for index in indexes:
        generations = project.catalog.generations.of_index(index)
        if not generations:
            continue
        memory = project.catalog.source_memory.of_generation(generations[-1].id).get(source)
        if memory is not None and memory.cursors:
            saved[index] = {
                name: str(decode_cursor(value)) for name, value in memory.cursors.items()
            }
    return saved
