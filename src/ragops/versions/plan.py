"""What a sync will do, decided from complete listings and the catalog before anything is read.

Every source of the index is listed completely first (a connector that fails, or that yields
one ``doc_id`` twice, stops the sync before any write, so a broken listing never deletes
documents). A listed document is a *candidate* (to be read) when it is new, its version
marker changed, or what its chunks' payload takes from it (metadata, ACL, file name) changed;
a recorded document no longer listed is *deleted*. A document a connector reports as
:class:`~ragops.sources.Unchanged` (it lists from a cursor) keeps what the catalog holds.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ragops.access.principals import effective_acl
from ragops.catalog import DocumentState
from ragops.errors import ConnectorError, MassDeleteError
from ragops.sources import SourceDocument, SourceMemory

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

__all__ = [
    "ListedDocument",
    "Plan",
    "SourcesListing",
    "current_markers",
    "describe_source",
    "list_sources",
    "list_sources_incrementally",
    "metadata_sha256",
    "plan_changes",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListedDocument:
    """One document of a listing, with its source and the hash of its payload fields."""

    source: str
    document: SourceDocument
    metadata_sha256: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.document.doc_id)


@dataclass
class Plan:
    """The changes one sync applies: decided before any document is read."""

    fingerprint: str
    head_number: int
    seen: list[tuple[str, str]]
    candidates: list[ListedDocument]
    deleted: list[tuple[str, str]]
    unchanged: int
    #: What each source's connector keeps from this listing (saved when the plan commits).
    memories: dict[str, SourceMemory] = field(default_factory=dict)


@dataclass
class SourcesListing:
    """The complete listing of an index's sources."""

    #: Documents listed in full.
    documents: list[ListedDocument]
    #: (source, doc_id) of documents reported unchanged (kept as the catalog holds them).
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    #: What each source's connector keeps (cursors and state).
    memories: dict[str, SourceMemory] = field(default_factory=dict)


def metadata_sha256(document: SourceDocument) -> str:
    """sha256 of what every chunk's payload takes from the document (metadata, ACL, file
    name): when it changes, the document's chunks are rewritten (not re-embedded)."""
    try:
        blob = json.dumps(
            {
                "metadata": dict(document.metadata),
                "acl": sorted(document.acl),
                "filename": document.filename,
            },
            sort_keys=True,
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise ConnectorError(
            f"document {document.doc_id!r}: metadata must hold JSON values (str, int, float, "
            f"bool, None, lists and mappings of them): {exc}; fix the connector"
        ) from None
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def list_sources(project: Project, sources: Sequence[str]) -> list[ListedDocument]:
    """The complete, checked listing of ``sources`` in full, from no saved cursor
    (ConnectorError on any problem)."""
    listed: list[ListedDocument] = []
    for source_name in sources:
        connector, options = project.connector_for(source_name)
        for document in connector.list_documents(source_name, options, project.root):
            listed.append(_listed(project, source_name, document))
    return listed


def list_sources_incrementally(
    project: Project,
    sources: Sequence[str],
    memories: Mapping[str, SourceMemory],
    known: Mapping[tuple[str, str], DocumentState],
) -> SourcesListing:
    """The complete, checked listing of ``sources``, each connector starting from what it
    kept last time (``memories``: cursors and state).

    A connector that reports as unchanged a document the catalog does not hold (its memory
    and the index disagree: a source re-added, a catalog restored) is listed again in full,
    so no document is missed.
    """
    result = SourcesListing([])
    for source_name in sources:
        connector, options = project.connector_for(source_name)
        memory = memories.get(source_name)
        listing = connector.listing(source_name, options, project.root, memory)
        unknown = [d for d in listing.unchanged if (source_name, d) not in known]
        if unknown and listing.incremental:
            logger.warning(
                "source %r: its connector reports %d document(s) unchanged that the index does "
                "not hold (e.g. %r); listing it again in full",
                source_name, len(unknown), unknown[0],
            )  # fmt: skip
            listing = connector.listing(source_name, options, project.root, None)
            unknown = [d for d in listing.unchanged if (source_name, d) not in known]
        if unknown:
            raise ConnectorError(
                f"source {source_name!r}: connector {connector.name!r} reports {len(unknown)} "
                f"document(s) as Unchanged that the index does not hold, even listing from no "
                f"cursor (e.g. {unknown[0]!r}): yield a SourceDocument for a document while "
                "its cursor's start_value is None; nothing was changed"
            )
        result.documents += [_listed(project, source_name, d) for d in listing.documents]
        result.unchanged += [(source_name, doc_id) for doc_id in listing.unchanged]
        if connector.keeps_memory():
            result.memories[source_name] = listing.memory
    return result


def current_markers(
    project: Project, sources: Sequence[str], index: str | None = None
) -> dict[tuple[str, str], str]:
    """(source, doc_id) -> version marker of every document of ``sources`` now, listed as the
    next sync of ``index`` would: from the cursors and state its connectors saved (a 304 per
    unchanged web page, not a download), an unchanged document keeping the marker the index
    holds. Nothing is saved. Without ``index`` (or before its first version): a full listing.
    """
    latest = project.catalog.versions.latest(index) if index is not None else None
    if latest is None:
        return {item.key: item.document.version for item in list_sources(project, sources)}
    known = project.catalog.documents.states(latest.generation_id)
    memories = project.catalog.source_memory.of_generation(latest.generation_id)
    listed = list_sources_incrementally(project, sources, memories, known)
    markers = {item.key: item.document.version for item in listed.documents}
    markers.update({key: known[key].version_marker for key in listed.unchanged})
    return markers


def describe_source(project: Project, source: str) -> tuple[dict[str, str], int | None]:
    """(doc_id -> version marker, total bytes or None) of ``source`` now: a connector that
    keeps cursors or state lists as the first index it feeds would (sizes unknown then);
    others list in full (bytes when every document reports its size)."""
    connector, _ = project.connector_for(source)
    fed = [name for name, index in project.config.indexes.items() if source in index.sources]
    if connector.keeps_memory() and fed:
        markers = current_markers(project, [source], fed[0])
        return {doc_id: marker for (_, doc_id), marker in markers.items()}, None
    listed = list_sources(project, [source])
    sizes = [item.document.size for item in listed]
    total = sum(s for s in sizes if s is not None) if None not in sizes else None
    return {item.document.doc_id: item.document.version for item in listed}, total


def _listed(project: Project, source_name: str, document: SourceDocument) -> ListedDocument:
    source = project.config.sources[source_name]
    # the ACL its chunks carry (and that a change of re-writes, without re-embedding)
    acl = effective_acl(document.acl, source.acl, source.public)
    if acl != document.acl:
        document = dataclasses.replace(document, acl=acl)
    return ListedDocument(source_name, document, metadata_sha256(document))


def plan_changes(
    listed: Sequence[ListedDocument] | SourcesListing,
    known: Mapping[tuple[str, str], DocumentState],
    fingerprint: str,
    head_number: int,
) -> Plan:
    """Diff a listing against what the generation's newest version was built from."""
    if not isinstance(listed, SourcesListing):
        listed = SourcesListing(list(listed))
    candidates: list[ListedDocument] = []
    unchanged = len(listed.unchanged)
    for item in listed.documents:
        state = known.get(item.key)
        if (
            state is None
            or state.version_marker != item.document.version
            or not _same_payload(state, item)
        ):
            candidates.append(item)
        else:
            unchanged += 1
    seen = [item.key for item in listed.documents] + listed.unchanged
    seen_keys = set(seen)
    deleted = [key for key in known if key not in seen_keys]
    return Plan(
        fingerprint, head_number, seen, candidates, deleted, unchanged, dict(listed.memories)
    )


def _same_payload(state: DocumentState, item: ListedDocument) -> bool:
    # Documents indexed before ragops 0.2 have no recorded hash: they are re-read only when
    # their marker changes (their chunks are rewritten then).
    return state.metadata_sha256 in (None, item.metadata_sha256)


def refuse_mass_deletes(
    plan: Plan, known: Mapping[tuple[str, str], DocumentState], project: Project, index: str
) -> None:
    """MassDeleteError when the plan deletes more of a source's documents than
    ``sources.<name>.max_delete_fraction`` allows (sources no longer feeding the index are
    left out: removing one from the configuration is meant to delete its documents; a move,
    a new id with a gone document's version marker, is not a delete)."""
    feeding = set(project.config.index(index).sources)
    indexed = Counter(source for source, _ in known)
    # a document listed under a new id with the marker of one that is gone is most likely that
    # document, moved (a git rename keeps its blob sha; a file move its mtime and size)
    reappearing = Counter(
        (item.source, item.document.version) for item in plan.candidates if item.key not in known
    )
    deleting: Counter[str] = Counter()
    for key in plan.deleted:
        moved = (key[0], known[key].version_marker)
        if reappearing[moved] > 0:
            reappearing[moved] -= 1
        else:
            deleting[key[0]] += 1
    for source, count in sorted(deleting.items()):
        if source not in feeding:
            continue
        limit = project.config.sources[source].max_delete_fraction
        total = indexed[source]
        if count > limit * total:
            listed = total - count
            raise MassDeleteError(
                f"source {source!r} of index {index!r} lists {listed} of the {total} documents "
                f"indexed from it: this sync would delete {count} ({count / total:.0%}), more "
                f"than sources.{source}.max_delete_fraction ({limit:.0%}) allows. Nothing was "
                f"changed. If the source is right (the documents really are gone), run `ragops "
                f"sync {index} --allow-mass-delete`; otherwise check the source's connector, "
                "credentials and options"
            )
