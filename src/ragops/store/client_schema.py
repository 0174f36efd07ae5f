"""qdrant-client in ragops' terms: the connection (server, ``:memory:`` or a local folder),
its errors worded as what, where and the fix, a collection's vector settings, and filters,
points and distances converted both ways. :class:`~ragops.store.client.ClientStore` uses it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from qdrant_client import QdrantClient
from qdrant_client import models as qm

from ragops.errors import StoreError, StoreLockedError
from ragops.store.base import SPARSE_VECTOR, PointRecord
from ragops.store.common import as_float_list, check_name, normalize_filters, unpack_vectors

__all__ = [
    "DISTANCES",
    "INDEX_SCHEMAS",
    "QdrantConnection",
    "qdrant_filter",
    "record",
    "version_conditions",
]

T = TypeVar("T")

DISTANCES: dict[str, qm.Distance] = {
    "cosine": qm.Distance.COSINE,
    "dot": qm.Distance.DOT,
    "euclid": qm.Distance.EUCLID,
}
FROM_QDRANT: dict[str, str] = {"Cosine": "cosine", "Dot": "dot", "Euclid": "euclid"}
INDEX_SCHEMAS: dict[str, qm.PayloadSchemaType] = {
    "integer": qm.PayloadSchemaType.INTEGER,
    "keyword": qm.PayloadSchemaType.KEYWORD,
}


def version_conditions(version: int) -> list[qm.FieldCondition]:
    """``v_from <= version < v_to`` (payload-indexed integer ranges on a server)."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise StoreError(f"Invalid version {version!r}: it must be an int.")
    return [
        qm.FieldCondition(key="v_from", range=qm.Range(lte=version)),
        qm.FieldCondition(key="v_to", range=qm.Range(gt=version)),
    ]


def qdrant_filter(
    version: int | None, filters: Mapping[str, Any] | None = None
) -> qm.Filter | None:
    must: list[Any] = [] if version is None else version_conditions(version)
    for key, value in normalize_filters(filters):
        match: qm.MatchAny | qm.MatchValue = (
            qm.MatchAny(any=value) if isinstance(value, list) else qm.MatchValue(value=value)
        )
        must.append(qm.FieldCondition(key=key, match=match))
    return qm.Filter(must=must) if must else None


def record(rec: Any, with_vectors: bool) -> PointRecord:
    vector: Sequence[float] = []
    sparse = None
    if with_vectors and rec.vector is not None:
        vector, sparse = unpack_vectors(rec.vector)
    return PointRecord(
        id=str(rec.id), vector=vector, payload=dict(rec.payload or {}), sparse=sparse
    )


class QdrantConnection:
    """A qdrant-client connection, with ragops' error wording and a cache of vector settings."""

    def __init__(self, location: str, api_key: str | None, timeout: int | None) -> None:
        if not location:
            raise StoreError("Empty Qdrant location. Fix: set store.url to http://host:6333.")
        self.location = location
        self.is_server = location.startswith(("http://", "https://"))
        self.params: dict[str, tuple[int, str]] = {}
        self.sparse: dict[str, bool] = {}
        if self.is_server:
            self.description = f"Qdrant server ({location})"
        elif location == ":memory:":
            self.description = "qdrant-client (in memory)"
        else:
            self.description = f"qdrant-client local ({location})"
        self.client = self._connect(location, api_key, timeout)

    def _connect(self, location: str, api_key: str | None, timeout: int | None) -> QdrantClient:
        try:
            if self.is_server:
                return QdrantClient(
                    url=location, api_key=api_key, timeout=timeout, check_compatibility=False
                )
            if location == ":memory:":
                return QdrantClient(location=":memory:")
            return QdrantClient(path=location)
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise StoreLockedError(
                    f"The local Qdrant folder {location} is in use by another process. "
                    "Fix: wait for it to finish, or point `store.url` in ragops.yaml at a "
                    "Qdrant server for concurrent access."
                ) from None
            raise StoreError(f"Cannot open {self.description}: {exc}.") from exc
        except Exception as exc:
            raise StoreError(
                f"Cannot open {self.description}: {exc}. Fix: check store.url in ragops.yaml."
            ) from exc

    def fix(self) -> str:
        if self.is_server:
            return (
                f"check that the Qdrant server at {self.location} is running and reachable "
                "(e.g. `docker compose up -d qdrant`) and that the API key is right"
            )
        return "check the arguments; see the error above"

    def call(
        self, action: str, name: str | None, fn: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        """Run a qdrant-client call, turning its exceptions into StoreError with what/where/fix."""
        try:
            return fn(*args, **kwargs)
        except StoreError:
            raise
        except Exception as exc:
            where = f"collection {name!r} on {self.description}" if name else self.description
            raise StoreError(
                f"Qdrant could not {action} ({where}): {exc}. Fix: {self.fix()}."
            ) from exc

    def require(self, name: str) -> tuple[int, str]:
        """(dimension, distance) of an existing collection; StoreError when it does not exist."""
        cached = self.params.get(name)
        if cached is not None:
            return cached
        check_name(name)
        if not self.call("check the collection", name, self.client.collection_exists, name):
            raise StoreError(
                f"Collection {name!r} does not exist on {self.description}. Fix: create it "
                "first (a sync creates its collection), or check the index name."
            )
        info = self.call("read the collection", name, self.client.get_collection, name)
        vectors = info.config.params.vectors
        if not isinstance(vectors, qm.VectorParams):
            raise StoreError(
                f"Collection {name!r} on {self.description} has named vectors, not the single "
                "unnamed vector ragops writes. Fix: use another collection name."
            )
        distance = FROM_QDRANT.get(vectors.distance.value, vectors.distance.value.lower())
        self.sparse[name] = SPARSE_VECTOR in (info.config.params.sparse_vectors or {})
        self.params[name] = (int(vectors.size), distance)
        return self.params[name]

    def has_sparse(self, name: str) -> bool:
        """True when the collection has the BM25 vector (read with its vector settings)."""
        self.require(name)
        return self.sparse[name]

    def check_vector(self, name: str, vector: Sequence[float]) -> list[float]:
        dimension = self.require(name)[0]
        values = as_float_list(vector)
        if len(values) != dimension:
            raise StoreError(
                f"Vector of dimension {len(values)} does not fit collection {name!r} "
                f"(dimension {dimension}) on {self.description}. Fix: embed with the model the "
                "index was built with, or rebuild the index for the new model."
            )
        return values
