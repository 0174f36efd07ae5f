"""What both store adapters share: search defaults, name and filter validation, conversions.

Search quality defaults, from ``benchmarks/bench_hnsw_recall.py`` (all-MiniLM-L6-v2 on SQuAD
dev sentences, 300 SQuAD questions, HNSW m=16/ef_construct=100, recall@10 of HNSW against
exact search in qdrant-edge):

* :data:`EXACT_SEARCH_BELOW` — a search whose filtered candidates in a segment number fewer than
  this is exact (Qdrant's ``full_scan_threshold``). Exact search costs ~0.8 ms at 8k and ~4 ms
  at 40k 384-d points on 2 cores, so quality wins below 20k points.
* :data:`DEFAULT_HNSW_EF` — above it HNSW runs with this ``hnsw_ef``. Qdrant's default ef (100)
  gave 0.98 with a version filter hiding half the points; ef=256 gave >= 0.99 in every case
  measured (8k real points: 1.0, 0.996 half visible; 40k jittered copies: 0.998, 0.991 half
  visible) for ~0.5 ms per query. Random vectors are far harder (0.67 at ef=100, 0.92 at ef=256
  on 8k points): recall figures measured on them do not carry over to real embeddings.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ragops.errors import StoreError

__all__ = [
    "DEFAULT_HNSW_EF",
    "DISTANCES",
    "EXACT_SEARCH_BELOW",
    "INDEXED_FIELDS",
    "as_float_list",
    "check_dimension",
    "check_distance",
    "check_ids",
    "check_name",
    "normalize_filters",
    "no_sparse_error",
    "score_from_qdrant",
    "scored_points",
    "tie_broken",
    "trivial_query",
    "unpack_vectors",
]

#: ``hnsw_ef`` used by approximate searches (``search(..., exact=False)`` on a large collection).
DEFAULT_HNSW_EF: int = 256

#: Searches over fewer candidate points than this are exact (qdrant's ``full_scan_threshold``).
EXACT_SEARCH_BELOW: int = 20_000

#: The distances the port supports.
DISTANCES: tuple[str, ...] = ("cosine", "dot", "euclid")

#: Payload keys every collection indexes (created on open where missing).
INDEXED_FIELDS: dict[str, str] = {
    "v_from": "integer",
    "v_to": "integer",
    "doc_id": "keyword",
    "acl": "keyword",  # every search on behalf of principals filters on it
}

_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$")
_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z_][A-Za-z0-9_\-]*)*$")

FilterValue = str | int | list[str] | list[int]


def check_name(name: str, what: str = "collection") -> str:
    """Return ``name`` if it is a valid collection or alias name, else raise StoreError."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or name in {".", ".."}:
        raise StoreError(
            f"Invalid {what} name {name!r}: use 1-200 letters, digits, '_', '-' or '.', "
            "not starting with '.' or '-'."
        )
    return name


def check_distance(distance: str) -> str:
    """Return ``distance`` if the port supports it, else raise StoreError."""
    if distance not in DISTANCES:
        raise StoreError(
            f"Unsupported distance {distance!r}. Fix: use one of {', '.join(DISTANCES)}."
        )
    return distance


def check_dimension(dimension: int) -> int:
    """Return ``dimension`` if it is a positive int, else raise StoreError."""
    if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension <= 0:
        raise StoreError(f"Invalid vector dimension {dimension!r}: it must be a positive integer.")
    return dimension


def normalize_filters(filters: Mapping[str, Any] | None) -> list[tuple[str, FilterValue]]:
    """Validate a filter mapping into ``(key, value)`` pairs, ``value`` a scalar or a list.

    Keys are payload paths (``doc_id``, ``metadata.source``). Values are ``str`` or ``int``, or a
    non-empty-or-empty list of one of them (match any; an empty list matches nothing). Booleans
    and floats are refused: qdrant-edge never matches ``True`` on bool payloads, so store flags
    as ints (0/1) and filter on those.
    """
    if not filters:
        return []
    out: list[tuple[str, FilterValue]] = []
    for key, value in filters.items():
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise StoreError(
                f"Invalid filter key {key!r}: use a payload field name or a dotted path such as "
                "'metadata.source'."
            )
        if isinstance(value, list | tuple | set | frozenset):
            items = sorted(value, key=repr) if isinstance(value, set | frozenset) else list(value)
            _check_filter_list(key, items)
            out.append((key, items))
        else:
            _check_filter_scalar(key, value)
            out.append((key, value))
    return out


def _check_filter_scalar(key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        hint = (
            " Booleans never match in the embedded store: store flags as ints (0/1)."
            if isinstance(value, bool)
            else ""
        )
        raise StoreError(
            f"Unsupported filter value {value!r} for key {key!r}: use a str, an int, or a list "
            f"of them.{hint}"
        )


def _check_filter_list(key: str, items: list[Any]) -> None:
    for item in items:
        _check_filter_scalar(key, item)
    kinds = {type(item) for item in items}
    if len(kinds) > 1:
        raise StoreError(
            f"Filter list for key {key!r} mixes strings and integers ({items!r}): "
            "use values of one type."
        )


def score_from_qdrant(score: float, distance: str) -> float:
    """Qdrant's score as "higher is closer": euclid distances are negated (``-distance``)."""
    return -float(score) if distance == "euclid" else float(score)


def as_float_list(vector: Sequence[float]) -> list[float]:
    """A vector (list, tuple or numpy array) as a list of Python floats."""
    tolist = getattr(vector, "tolist", None)
    if tolist is not None:
        return [float(x) for x in tolist()]
    return [float(x) for x in vector]


def check_ids(ids: Sequence[str]) -> list[str]:
    """The point ids as canonical UUID strings (lower case, hyphenated).

    Raises StoreError naming the first id that is not a UUID.
    """
    out = []
    for pid in ids:
        try:
            out.append(str(uuid.UUID(str(pid))))
        except ValueError:
            raise StoreError(
                f"Invalid point id {pid!r}: point ids must be UUID strings "
                "(chunk ids are uuid5(doc_id, text hash, ordinal))."
            ) from None
    return out


def tie_broken(points: list[Any]) -> list[Any]:
    """Scored points best first, ties (frequent in RRF, where dense rank 2 + sparse rank 3
    scores as dense rank 3 + sparse rank 2) broken by the dense score, then the id, so one
    query always gives one order."""
    return sorted(
        points,
        key=lambda p: (
            -p.score,
            -(p.dense_score if p.dense_score is not None else float("-inf")),
            p.id,
        ),
    )


def unpack_vectors(vectors: Any) -> tuple[list[float], Any]:
    """A point's vectors as Qdrant returns them (a list, or by name in a collection with the
    sparse vector) as ``(dense, SparseVector or None)``."""
    from ragops.store.base import SPARSE_VECTOR, SparseVector

    if not isinstance(vectors, dict):
        return list(vectors), None
    found = vectors.get(SPARSE_VECTOR)
    sparse = SparseVector(tuple(found.indices), tuple(found.values)) if found is not None else None
    return list(vectors.get("", [])), sparse


def scored_points(hits: Any, dense: dict[str, float], sparse: dict[str, float]) -> list[Any]:
    """Qdrant's scored points (either client's: ``id``, ``score``, ``payload``) as ragops'
    :class:`~ragops.store.base.ScoredPoint`, with each branch's score, ties broken."""
    from ragops.store.base import ScoredPoint

    return tie_broken(
        [
            ScoredPoint(
                id=str(h.id),
                score=float(h.score),
                payload=dict(h.payload or {}),
                dense_score=dense.get(str(h.id)),
                sparse_score=sparse.get(str(h.id)),
            )  # fmt: skip
            for h in hits
        ]
    )


def trivial_query(store: Any, name: str, request: Any, k: int, version: int,
                  filters: Any) -> list[Any] | None:  # fmt: skip
    """The answer of a query that needs no sparse search (dense mode; a query whose every
    word was a stopword), from the store's own ``search``; None when BM25 must run."""
    from ragops.store.base import ScoredPoint, SearchQuery

    if k <= 0:
        return []
    if request.mode == "dense":
        return [
            ScoredPoint(p.id, p.score, p.payload, dense_score=p.score)
            for p in store.search(name, request.dense or [], k, version, filters)
        ]
    if not store.has_sparse(name):
        raise no_sparse_error(name, store.description)
    if not request.sparse:  # no query term survived tokenization: BM25 matches nothing
        if request.mode == "sparse":
            return []
        return trivial_query(store, name, SearchQuery(dense=request.dense), k, version, filters)
    return None


def no_sparse_error(name: str, where: str) -> StoreError:
    return StoreError(
        f"Collection {name!r} in {where} has no sparse (BM25) vectors, so it can only be "
        "searched densely. Fix: search in dense mode, or rebuild the index with sparse vectors "
        "(`ragops sync` builds a new generation)."
    )
