"""Fixtures for the vector store contract suite: every test runs on both adapters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ragops.store.base import VectorStore

ADAPTERS = ["edge", "client"]


def _open_adapter(kind: str, tmp_path: Path, **kwargs: object) -> VectorStore:
    """A fresh store of the given adapter kind: edge on ``tmp_path``, client in memory."""
    if kind == "edge":
        from ragops.store.edge import EdgeStore

        return EdgeStore(tmp_path / "store", **kwargs)  # type: ignore[arg-type]
    from ragops.store.client import ClientStore

    return ClientStore(":memory:", **kwargs)  # type: ignore[arg-type]


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    """Each adapter in turn, closed afterwards."""
    s = _open_adapter(request.param, tmp_path)
    yield s
    s.close()


@pytest.fixture
def open_adapter() -> Callable[..., VectorStore]:
    """``open_adapter(kind, tmp_path, **adapter_kwargs)``: a store the test closes itself."""
    return _open_adapter
