"""One hit per document: the ``k`` best groups of points that share a payload field
(``doc_id``), each with its best ``group_size`` points, best group first.

The client adapter asks Qdrant's groups API (``query_points_groups``). qdrant-edge has no
groups API, so the embedded adapter searches for more points than it needs and groups them
here (:func:`groups_by_overfetch`), asking for four times as many until it has ``k`` groups
or the version has no more points. Both skip points without the field, as Qdrant does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ragops.store.base import ScoredPoint

__all__ = ["group_points", "groups_by_overfetch"]


def group_points(
    points: Sequence[ScoredPoint], group_by: str, group_size: int
) -> list[list[ScoredPoint]]:
    """``points`` (best first) grouped by the payload field ``group_by``: groups in the order
    of their best point, each holding its best ``group_size`` points."""
    groups: dict[Any, list[ScoredPoint]] = {}
    for point in points:
        key = _field(point.payload, group_by)
        if key is None:
            continue
        members = groups.setdefault(key, [])
        if len(members) < group_size:
            members.append(point)
    return list(groups.values())


def groups_by_overfetch(
    search: Callable[[int], list[ScoredPoint]], k: int, group_by: str, group_size: int
) -> list[list[ScoredPoint]]:
    """The ``k`` best groups from ``search(limit)`` (the ``limit`` nearest points, best first),
    searching deeper until there are ``k`` groups or no more points."""
    limit = max(16, 4 * k * group_size)
    while True:
        points = search(limit)
        groups = group_points(points, group_by, group_size)
        if len(groups) >= k or len(points) < limit:
            return groups[:k]
        limit *= 4


def _field(payload: Any, path: str) -> Any:
    """A payload value by dotted path (``doc_id``, ``metadata.section``); lists are not keys."""
    value = payload
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return None if isinstance(value, (list, dict)) else value
