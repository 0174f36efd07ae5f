"""The reads of :class:`ragops.store.client.ClientStore`: search (dense, sparse, hybrid,
grouped), count, scroll and retrieve, as a mixin over the store's connection."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from qdrant_client import models as qm

from ragops.store.base import PointRecord, ScoredPoint, SearchQuery
from ragops.store.client_query import branch_requests, read_branch_scores, sparse_or_hybrid
from ragops.store.client_schema import QdrantConnection, qdrant_filter, record
from ragops.store.common import check_ids, score_from_qdrant, scored_points, trivial_query

__all__ = ["ClientReads"]

T = TypeVar("T")


class ClientReads:
    """Read methods of the qdrant-client adapter; the store provides what is declared here."""

    hnsw_ef: int
    scroll_page_size: int
    _conn: QdrantConnection
    _client: Any
    _is_server: bool

    def _call(
        self, action: str, name: str | None, fn: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        raise NotImplementedError

    def _require(self, name: str) -> tuple[int, str]:
        raise NotImplementedError

    def search(
        self,
        name: str,
        vector: Sequence[float],
        k: int,
        version: int,
        filters: Mapping[str, Any] | None = None,
        exact: bool = False,
    ) -> list[ScoredPoint]:
        """The ``k`` nearest points visible in ``version``, best first, with payloads.

        On a server, ``exact=False`` lets Qdrant choose (exact below ``exact_search_below``
        candidates, HNSW with ``hnsw_ef`` above); ``:memory:`` and local mode always scan.
        """
        query = self._conn.check_vector(name, vector)
        distance = self._require(name)[1]
        flt = qdrant_filter(version, filters)
        if k <= 0:
            return []
        params = None  # qdrant-client's local engine always scans (and warns about params)
        if self._is_server:
            params = (
                qm.SearchParams(exact=True)
                if exact
                else qm.SearchParams(hnsw_ef=max(self.hnsw_ef, k))
            )
        response = self._call(
            "search",
            name,
            self._client.query_points,
            name,
            query=query,
            limit=k,
            query_filter=flt,
            search_params=params,
            with_payload=True,
            with_vectors=False,
        )
        return [
            ScoredPoint(
                id=str(p.id),
                score=score_from_qdrant(p.score, distance),
                payload=dict(p.payload or {}),
            )
            for p in response.points
        ]

    def query(
        self,
        name: str,
        request: SearchQuery,
        k: int,
        version: int,
        filters: Mapping[str, Any] | None = None,
    ) -> list[ScoredPoint]:
        """The ``k`` best points for a dense, sparse or hybrid query (see
        :mod:`ragops.store.client_query`), with each branch's score."""
        if request.dense is not None:
            self._conn.check_vector(name, request.dense)
        self._require(name)
        answered = trivial_query(self, name, request, k, version, filters)
        if answered is not None:
            return answered
        params = (
            qm.SearchParams(hnsw_ef=max(self.hnsw_ef, request.prefetch))
            if self._is_server
            else None
        )
        points = sparse_or_hybrid(
            lambda action, fn, *args, **kwargs: self._call(action, name, fn, *args, **kwargs),
            self._client, name, request, k, qdrant_filter(version, filters), params,
        )  # fmt: skip
        if request.mode == "sparse":
            return scored_points(points, {}, {str(p.id): p.score for p in points})
        if not request.branch_scores:
            return scored_points(points, {}, {})
        dense, sparse = self.score_branches(name, request, [str(p.id) for p in points])
        return scored_points(points, dense, sparse)

    def score_branches(
        self, name: str, request: SearchQuery, ids: Sequence[str]
    ) -> tuple[dict[str, float], dict[str, float]]:
        """Each point's dense and sparse score for the request (one query batch)."""
        distance = self._require(name)[1]
        wanted = check_ids(ids)
        if not wanted:
            return {}, {}
        responses = self._call(
            "score hits", name, self._client.query_batch_points, name,
            branch_requests(request, wanted),
        )  # fmt: skip
        return read_branch_scores(request, responses, distance)

    def search_groups(
        self,
        name: str,
        vector: Sequence[float],
        k: int,
        version: int,
        filters: Mapping[str, Any] | None = None,
        *,
        group_by: str = "doc_id",
        group_size: int = 1,
    ) -> list[list[ScoredPoint]]:
        """The ``k`` best groups, from Qdrant's groups API."""
        query = self._conn.check_vector(name, vector)
        distance = self._require(name)[1]
        if k <= 0:
            return []
        params = qm.SearchParams(hnsw_ef=max(self.hnsw_ef, k)) if self._is_server else None
        response = self._call(
            "search groups", name, self._client.query_points_groups, name,
            group_by=group_by, query=query, limit=k, group_size=max(1, group_size),
            query_filter=qdrant_filter(version, filters), with_payload=True,
            search_params=params,
        )  # fmt: skip
        return [
            [
                ScoredPoint(str(p.id), score_from_qdrant(p.score, distance), dict(p.payload or {}))
                for p in group.hits
            ]
            for group in response.groups
        ]

    def _count(self, name: str, flt: qm.Filter | None) -> int:
        result = self._call("count points", name, self._client.count, name, flt, exact=True)
        return int(result.count)

    def count(self, name: str, version: int | None = None) -> int:
        """Points visible in ``version``, or all points when ``version`` is None."""
        self._require(name)
        return self._count(name, qdrant_filter(version))

    def scroll(
        self, name: str, version: int | None = None, with_vectors: bool = False
    ) -> Iterator[PointRecord]:
        """Every point (visible in ``version`` if given), in id order, fetched in pages."""
        self._require(name)
        return self._scroll_pages(name, qdrant_filter(version), with_vectors)

    def _scroll_pages(
        self, name: str, flt: qm.Filter | None, with_vectors: bool
    ) -> Iterator[PointRecord]:
        offset: Any = None
        while True:
            records, offset = self._call(
                "scroll points",
                name,
                self._client.scroll,
                name,
                scroll_filter=flt,
                limit=self.scroll_page_size,
                offset=offset,
                with_payload=True,
                with_vectors=with_vectors,
            )
            for rec in records:
                yield record(rec, with_vectors)
            if offset is None:
                return

    def retrieve(
        self, name: str, ids: Sequence[str], with_vectors: bool = False
    ) -> list[PointRecord]:
        """The points with these ids that exist (any version), in the order asked."""
        self._require(name)
        wanted = check_ids(ids)
        if not wanted:
            return []
        found = self._call(
            "retrieve points",
            name,
            self._client.retrieve,
            name,
            wanted,
            with_payload=True,
            with_vectors=with_vectors,
        )
        by_id = {str(r.id): record(r, with_vectors) for r in found}
        return [by_id[i] for i in dict.fromkeys(wanted) if i in by_id]
