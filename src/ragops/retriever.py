"""The retrieval library app developers call::

    from ragops import Retriever

    retriever = Retriever.open("docs", config="ragops.yaml")      # production by default
    for hit in retriever.search("how do I roll back?", k=5):
        print(hit.score, hit.doc_id, hit.text[:80])

Each search reads one consistent version: the environment pointer is resolved once per call,
so a promotion in between never mixes versions within one result list.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragops.access.principals import check_principals, readable_by
from ragops.catalog import INDEX
from ragops.config import ProjectConfig
from ragops.errors import IndexNotFoundError
from ragops.hits import Hit
from ragops.project import Project
from ragops.ranking import (
    check_mode,
    hits_of,
    resolve_mode,
    retrieval_label,
    search_points,
    store_query,
)
from ragops.store import SearchQuery

if TYPE_CHECKING:  # pragma: no cover
    from llama_index.core.retrievers import BaseRetriever

    from ragops.catalog import Catalog, Generation
    from ragops.remote import RemoteRetriever
    from ragops.vectors import Embedder
    from ragops.vectors.sparse import SparseEncoder

__all__ = ["Hit", "Retriever"]

#: Payload fields that filters address directly; any other key means ``metadata.<key>``.
TOP_LEVEL_FIELDS = frozenset({"doc_id", "chunk_id", "source", "acl"})


@dataclass(frozen=True)
class _Target:
    version: int
    generation: Generation
    #: Metadata keys the version's chunks have (None: not recorded by an older release).
    metadata_keys: frozenset[str] | None = None


#: Each project's versions that environments pointed at, by (index, version): a version's
#: generation and metadata keys never change, and retention never prunes a version an
#: environment points at, so a search reads only the pointer. (A pinned version is read from
#: the catalog each time: it may have been pruned since.)
_RESOLVED: weakref.WeakKeyDictionary[Project, dict[tuple[str, int], _Target]] = (
    weakref.WeakKeyDictionary()
)


class Retriever:
    """Searches one index at an environment (default ``production``) or a pinned version."""

    def __init__(
        self,
        project: Project,
        index: str,
        env: str | None = "production",
        version: int | None = None,
        owns_project: bool = False,
        principals: Sequence[str] | None = None,
        *,
        log: bool = True,
        face: str = "library",
        asked_by: str | None = None,
    ) -> None:
        project.config.index(index)
        self.project = project
        self.index = index
        self.env = None if version is not None else env
        self.pinned_version = version
        #: Whom searches read for: only chunks whose ACL names one of them (or the public
        #: marker). None: unrestricted, as an admin (a process that opens the project's files).
        self.principals = _checked_principals(principals)
        #: Record each search in the project's query log (evals do not).
        self.log = log
        #: Which face searches (library, cli, server) and for whom, as the query log names it.
        self.face = face
        self.asked_by = asked_by
        self._owns_project = owns_project
        self._embedders: dict[str, Embedder] = {}
        self._sparse_encoders: dict[str, SparseEncoder] = {}
        #: The version the last search read (the one resolved now, before any search).
        self.last_version = self._target().version  # fail now, not at the first search
        #: How the last search ranked (``hybrid-dbsf``, ``dense/doc_id``, …; None before one).
        self.last_retrieval: str | None = None

    @classmethod
    def open(
        cls,
        index: str,
        config: str | Path | ProjectConfig | None = None,
        *,
        env: str = "production",
        version: int | None = None,
        principals: Sequence[str] | None = None,
    ) -> Retriever:
        """Open ``index`` from a project (``config``: path to ragops.yaml, or None to search).

        ``version`` pins an exact version; otherwise the environment ``env`` is followed.
        ``principals`` (``["user:alice", "group:eng"]``): search on their behalf, seeing only
        the documents their ACLs allow; None reads every document (as an admin).
        """
        return cls(
            Project.open(config), index, env=env, version=version, owns_project=True,
            principals=principals,
        )  # fmt: skip

    @staticmethod
    def connect(
        url: str,
        index: str,
        *,
        api_key: str | None = None,
        env: str = "production",
        version: int | None = None,
        timeout: float = 30.0,
    ) -> RemoteRetriever:
        """Search ``index`` of a running ``ragops serve`` at ``url`` instead of opening the
        project here: the same ``search``, ``search_many`` and ``as_llama_index``."""
        from ragops.remote import RemoteRetriever

        return RemoteRetriever(
            url, index, api_key=api_key, env=env, version=version, timeout=timeout
        )

    # -- resolution --------------------------------------------------------------------------

    def _target(self) -> _Target:
        catalog = self.project.catalog
        if self.pinned_version is not None:
            return _resolve(catalog, self.index, self.pinned_version)
        else:
            assert self.env is not None
            pointer = catalog.pointers.get(INDEX, self.index, self.env)
            if pointer is None:
                raise IndexNotFoundError(
                    f"index {self.index!r} has no {self.env!r} environment yet; promote a "
                    f"version first: `ragops promote {self.index} VERSION --env {self.env}` "
                    f"(or `ragops run`)"
                )
            number = pointer.version
        resolved = _RESOLVED.setdefault(self.project, {})
        target = resolved.get((self.index, number))
        if target is None:
            target = resolved[(self.index, number)] = _resolve(catalog, self.index, number)
        return target

    @property
    def version(self) -> int:
        """The version a search made now would read."""
        return self._target().version

    def _embedder(self, generation: Generation) -> Embedder:
        """The embedder that made the generation's vectors (its spec, not today's config)."""
        embedder = self._embedders.get(generation.fingerprint)
        if embedder is None:
            embedder = self.project.generation_embedder(self.index, generation)
            self._embedders[generation.fingerprint] = embedder
        return embedder

    # -- search ------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 5,
        filters: Mapping[str, Any] | None = None,
        *,
        group_by: str | None = None,
        group_size: int = 1,
        mode: str | None = None,
    ) -> list[Hit]:
        """The ``k`` chunks closest to ``query``, best first.

        ``filters`` maps a payload key to a value or a list of values (match any): ``doc_id``,
        ``source``, or any metadata key (``{"extension": ".md"}``).
        ``group_by="doc_id"``: one hit per document instead, the best chunk of each of the
        ``k`` best documents (with ``group_size`` > 1, its next best chunks right after it).
        ``mode``: ``dense``, ``sparse`` (BM25) or ``hybrid`` (both, fused) instead of the
        index's ``retrieval.mode`` (see docs/retrieval.md).
        """
        return self.search_many(
            [query], k=k, filters=filters, group_by=group_by, group_size=group_size, mode=mode
        )[0]

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 5,
        filters: Mapping[str, Any] | None = None,
        *,
        group_by: str | None = None,
        group_size: int = 1,
        mode: str | None = None,
    ) -> list[list[Hit]]:
        """Search several queries at once (their embeddings are computed in one batch)."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        _check_grouping(group_by, group_size)
        check_mode(mode)
        from ragops.tracing import tracer

        attributes = {
            "gen_ai.operation.name": "retrieval",
            "gen_ai.data_source.id": self.index,
            "gen_ai.request.top_k": k,
            "ragops.queries": len(queries),
        }
        if self.env is not None:
            attributes["ragops.index.env"] = self.env
        with tracer().start_as_current_span(
            f"retrieval {self.index}", attributes=attributes
        ) as span:
            target = self._target()
            self.last_version = target.version
            span.set_attribute("ragops.index.version", target.version)
            settings = self.project.config.index(self.index).retrieval
            where = f"{self.index} version {target.version}"
            used = resolve_mode(mode, settings, target.generation, where)
            span.set_attribute("ragops.retrieval.mode", used)
            self.last_retrieval = retrieval_label(used, settings.fusion, group_by)
            started = time.perf_counter()
            vectors: Sequence[Any] = [None] * len(queries)
            if used != "sparse":
                vectors = self._embed(target.generation, queries)
            embed_ms = (time.perf_counter() - started) * 1000 / max(1, len(queries))
            results = []
            for query, vector in zip(queries, vectors, strict=True):
                searched = time.perf_counter()
                sparse = self._sparse(target.generation).query(query) if used != "dense" else None
                hits = self._search(
                    store_query(used, settings, vector, sparse), used, k, filters, group_by,
                    group_size, target,
                )  # fmt: skip
                search_ms = (time.perf_counter() - searched) * 1000
                results.append(hits)
                self._record(query, k, filters, target.version, hits, embed_ms, search_ms,
                             self.last_retrieval)  # fmt: skip
            span.set_attribute("ragops.hits", sum(len(hits) for hits in results))
        return results

    def _embed(self, generation: Generation, queries: Sequence[str]) -> Any:
        from ragops.tracing import tracer

        model = str(generation.spec.get("embedding", {}).get("model", "unknown"))
        with tracer().start_as_current_span(
            f"embeddings {model}",
            attributes={"gen_ai.operation.name": "embeddings", "gen_ai.request.model": model},
        ):
            embedder = self._embedder(generation)
            if self.project.batch_queries:
                return self.project.query_batcher(embedder).embed(list(queries))
            return embedder.embed_queries(list(queries))

    def _sparse(self, generation: Generation) -> SparseEncoder:
        """The BM25 encoder of the generation's spec (queries do not depend on avg_len)."""
        from ragops.vectors.sparse import SparseEncoder

        encoder = self._sparse_encoders.get(generation.fingerprint)
        if encoder is None:
            encoder = SparseEncoder(generation.spec["sparse"])
            self._sparse_encoders[generation.fingerprint] = encoder
        return encoder

    def _record(
        self,
        query: str,
        k: int,
        filters: Mapping[str, Any] | None,
        version: int,
        hits: list[Hit],
        embed_ms: float,
        search_ms: float,
        retrieval: str,
    ) -> None:
        log = self.project.query_log if self.log else None
        if log is None:
            return
        from ragops.queries import QueryRecord, reader_of

        log.record(
            QueryRecord(
                kind="search",
                index=self.index,
                query=query,
                k=k,
                env=self.env,
                version=version,
                face=self.face,
                principal=self.asked_by or reader_of(self.principals),
                filters=dict(filters) if filters else None,
                doc_ids=[h.doc_id for h in hits],
                chunk_ids=[h.chunk_id for h in hits],
                scores=[h.score for h in hits],
                embed_ms=round(embed_ms, 3),
                search_ms=round(search_ms, 3),
                total_ms=round(embed_ms + search_ms, 3),
                retrieval=retrieval,
            )
        )

    def search_vector(
        self,
        vector: Sequence[float],
        k: int = 5,
        filters: Mapping[str, Any] | None = None,
        *,
        group_by: str | None = None,
        group_size: int = 1,
        _target: _Target | None = None,
    ) -> list[Hit]:
        """Search with a query vector you embedded yourself (options as :meth:`search`; always
        dense: BM25 needs the query's text)."""
        _check_grouping(group_by, group_size)
        target = _target or self._target()
        settings = self.project.config.index(self.index).retrieval
        request = store_query("dense", settings, vector, None)
        return self._search(request, "dense", k, filters, group_by, group_size, target)

    def _search(
        self,
        request: SearchQuery,
        mode: str,
        k: int,
        filters: Mapping[str, Any] | None,
        group_by: str | None,
        group_size: int,
        target: _Target,
    ) -> list[Hit]:
        self._check_filter_keys(filters, target)
        payload_filters = _payload_filters(filters) or {}
        if self.principals is not None:
            if "acl" in payload_filters:
                raise ValueError(
                    "a filter on acl cannot be combined with principals: the principals "
                    "already decide which documents this retriever reads"
                )
            payload_filters["acl"] = readable_by(self.principals)
        points = search_points(
            self.project.store, target.generation.collection, request, k, target.version,
            payload_filters or None, _payload_field(group_by) if group_by else None, group_size,
        )  # fmt: skip
        return hits_of(points, target.version, mode)

    def _check_filter_keys(self, filters: Mapping[str, Any] | None, target: _Target) -> None:
        """ValueError for a filter on a metadata key no chunk of the version has (it could
        only ever match nothing: most likely a typo)."""
        if not filters or target.metadata_keys is None:
            return
        for key in filters:
            name = key.removeprefix("metadata.")
            if key in TOP_LEVEL_FIELDS or name in target.metadata_keys:
                continue
            known = ", ".join(sorted(target.metadata_keys)) or "none"
            raise ValueError(
                f"no chunk of {self.index} version {target.version} has the field {key!r}: "
                f"filter on doc_id, chunk_id, source, acl or a metadata key ({known})"
            )

    def embed_queries(self, queries: Sequence[str]) -> Any:
        """Query vectors from the model of the version a search would read now."""
        return self._embedder(self._target().generation).embed_queries(list(queries))

    # -- integrations ------------------------------------------------------------------------

    def as_llama_index(self, k: int = 5, filters: Mapping[str, Any] | None = None) -> BaseRetriever:
        """This retriever as a LlamaIndex ``BaseRetriever`` (nodes carry ids and metadata)."""
        from ragops.integrations.llama_index import RagopsLlamaRetriever

        return RagopsLlamaRetriever(self, k=k, filters=filters)

    def close(self) -> None:
        if self._owns_project:
            self.project.close()

    def __enter__(self) -> Retriever:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _check_grouping(group_by: str | None, group_size: int) -> None:
    if group_by is not None and not group_by.strip():
        raise ValueError("group_by must name a payload field, such as 'doc_id'")
    if group_size < 1:
        raise ValueError(f"group_size must be at least 1, got {group_size}")


def _resolve(catalog: Catalog, index: str, number: int) -> _Target:
    info = catalog.versions.get(index, number)
    keys = info.stats.get("metadata_keys")
    return _Target(
        info.number,
        catalog.generations.get(info.generation_id),
        frozenset(keys) if isinstance(keys, list) else None,
    )


def _checked_principals(principals: Sequence[str] | None) -> tuple[str, ...] | None:
    if principals is None:
        return None
    if isinstance(principals, str):
        raise ValueError(f"principals must be a list such as [{principals!r}], not a string")
    check_principals(principals)
    return tuple(principals)


def _payload_filters(filters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not filters:
        return None
    return {_payload_field(key): value for key, value in filters.items()}


def _payload_field(key: str) -> str:
    """The payload path of a field a filter or grouping names: ``doc_id``, ``chunk_id``,
    ``source`` and ``acl`` as they are, any other key under ``metadata.``."""
    if key in TOP_LEVEL_FIELDS or key.startswith("metadata."):
        return key
    return f"metadata.{key}"
