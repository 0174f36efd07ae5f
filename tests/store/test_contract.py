"""The VectorStore contract: what the index lifecycle and the Retriever rely on.

Every test runs on both adapters (``store`` fixture: qdrant-edge on a temp dir, qdrant-client in
memory) unless it is about the embedded store's files and lock.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import ragops
from ragops.errors import StoreError, StoreLockedError
from ragops.store import OPEN, PointRecord, ScoredPoint, VectorStore, open_store
from ragops.store.edge import EdgeStore

NS = uuid.UUID("0b7f6a52-3c3e-4b4e-9a51-3f1d9c2f6a10")
SRC_DIR = Path(ragops.__file__).resolve().parents[1]
ADAPTERS = ["edge", "client"]
OpenAdapter = Callable[..., VectorStore]


def pid(n: int | str) -> str:
    """Deterministic point id, as ragops makes chunk ids (uuid5)."""
    return str(uuid.uuid5(NS, str(n)))


def unit(degrees: float, dim: int = 4) -> list[float]:
    """A unit vector at ``degrees`` in the first plane."""
    rad = math.radians(degrees)
    return [math.cos(rad), math.sin(rad)] + [0.0] * (dim - 2)


def point(
    n: int,
    vector: list[float],
    *,
    doc_id: str = "doc-a",
    v_from: int = 1,
    v_to: int = OPEN,
    **metadata: object,
) -> PointRecord:
    return PointRecord(
        id=pid(n),
        vector=vector,
        payload={
            "doc_id": doc_id,
            "chunk_id": f"{doc_id}#{n}",
            "text": f"chunk number {n}",
            "metadata": dict(metadata),
            "v_from": v_from,
            "v_to": v_to,
        },
    )


def ids(results: list[ScoredPoint] | list[PointRecord]) -> list[str]:
    return [r.id for r in results]


@pytest.fixture
def fan(store: VectorStore) -> VectorStore:
    """Collection "c" (4-d cosine) with points 0..9 at 0°, 10°, … 90°, all in version 1.

    Even points belong to doc-a (source "wiki"), odd ones to doc-b (source "drive");
    ``metadata.page`` is n // 3.
    """
    store.create_collection("c", 4, "cosine")
    store.upsert(
        "c",
        [
            point(
                n,
                unit(10 * n),
                doc_id="doc-a" if n % 2 == 0 else "doc-b",
                source="wiki" if n % 2 == 0 else "drive",
                page=n // 3,
            )
            for n in range(10)
        ],
    )
    return store


# -- collections ------------------------------------------------------------------------------


def test_create_is_idempotent_and_lists_the_collection(store: VectorStore) -> None:
    assert not store.collection_exists("c")
    store.create_collection("c", 4, "cosine")
    store.upsert("c", [point(1, unit(0))])
    store.create_collection("c", 4, "cosine")  # again: nothing happens, data stays
    assert store.collection_exists("c")
    assert store.list_collections() == ["c"]
    assert store.count("c") == 1


@pytest.mark.parametrize(("dimension", "distance"), [(8, "cosine"), (4, "dot")])
def test_create_rejects_other_dimension_or_distance(
    store: VectorStore, dimension: int, distance: str
) -> None:
    store.create_collection("c", 4, "cosine")
    with pytest.raises(StoreError, match="exists with dimension 4 and distance cosine"):
        store.create_collection("c", dimension, distance)  # type: ignore[arg-type]


def test_create_rejects_bad_arguments(store: VectorStore) -> None:
    with pytest.raises(StoreError, match="distance"):
        store.create_collection("c", 4, "manhattan")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="dimension"):
        store.create_collection("c", 0, "cosine")
    with pytest.raises(StoreError, match="collection name"):
        store.create_collection("../escape", 4, "cosine")


def test_drop_collection(fan: VectorStore) -> None:
    fan.drop_collection("c")
    assert not fan.collection_exists("c")
    assert fan.list_collections() == []
    with pytest.raises(StoreError, match="does not exist"):
        fan.search("c", unit(0), 3, version=1)
    fan.drop_collection("c")  # missing: nothing happens
    fan.create_collection("c", 8, "dot")  # the name is free again, with other settings
    assert fan.count("c") == 0


def test_unknown_collection_is_a_store_error(store: VectorStore) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        store.count("nope")
    with pytest.raises(StoreError, match="does not exist"):
        store.upsert("nope", [point(1, unit(0))])


# -- writes and search ------------------------------------------------------------------------


def test_upsert_then_search_returns_nearest_first_with_payload(fan: VectorStore) -> None:
    hits = fan.search("c", unit(22), 3, version=1)
    assert ids(hits) == [pid(2), pid(3), pid(1)]
    assert hits[0].score > hits[1].score > hits[2].score
    assert hits[0].score == pytest.approx(math.cos(math.radians(2)), abs=1e-5)
    assert hits[0].payload == {
        "doc_id": "doc-a",
        "chunk_id": "doc-a#2",
        "text": "chunk number 2",
        "metadata": {"source": "wiki", "page": 0},
        "v_from": 1,
        "v_to": OPEN,
    }


def test_search_k_larger_than_collection_returns_all(fan: VectorStore) -> None:
    assert len(fan.search("c", unit(0), 50, version=1)) == 10


def test_upsert_replaces_by_id(fan: VectorStore) -> None:
    fan.upsert("c", [point(0, unit(90), doc_id="doc-z")])
    assert fan.count("c") == 10
    (rec,) = fan.retrieve("c", [pid(0)])
    assert rec.payload["doc_id"] == "doc-z"
    assert set(ids(fan.search("c", unit(90), 2, version=1))) == {pid(0), pid(9)}


def test_upsert_accepts_numpy_vectors(store: VectorStore) -> None:
    store.create_collection("c", 4, "cosine")
    store.upsert("c", [point(1, np.array(unit(0), dtype=np.float32))])  # type: ignore[arg-type]
    assert ids(store.search("c", np.array(unit(5)), 1, version=1)) == [pid(1)]  # type: ignore[arg-type]


def test_wrong_dimension_and_bad_ids_are_store_errors(fan: VectorStore) -> None:
    with pytest.raises(StoreError, match="dimension 3 does not fit"):
        fan.upsert("c", [point(99, [1.0, 0.0, 0.0])])
    with pytest.raises(StoreError, match="dimension 5 does not fit"):
        fan.search("c", [1.0] * 5, 3, version=1)
    with pytest.raises(StoreError, match="UUID"):
        fan.upsert("c", [PointRecord("chunk-1", unit(0), {"v_from": 1, "v_to": OPEN})])
    assert fan.count("c") == 10


def test_dot_scores_are_higher_for_closer_points(store: VectorStore) -> None:
    store.create_collection("d", 2, "dot")
    store.upsert("d", [point(n, [float(n), 0.0]) for n in range(1, 5)])
    hits = store.search("d", [1.0, 0.0], 4, version=1)
    assert ids(hits) == [pid(4), pid(3), pid(2), pid(1)]  # dot with [1, 0] is n
    assert [h.score for h in hits] == pytest.approx([4.0, 3.0, 2.0, 1.0])


def test_euclid_score_is_minus_the_distance(store: VectorStore) -> None:
    store.create_collection("e", 2, "euclid")
    store.upsert("e", [point(n, [float(n), 0.0]) for n in range(1, 5)])
    hits = store.search("e", [3.0, 0.0], 4, version=1)
    assert hits[0].id == pid(3)
    assert set(ids(hits[1:3])) == {pid(2), pid(4)}
    assert hits[3].id == pid(1)
    assert [h.score for h in hits] == pytest.approx([0.0, -1.0, -1.0, -2.0], abs=1e-6)


def test_delete_removes_points_and_ignores_missing_ids(fan: VectorStore) -> None:
    fan.delete("c", [pid(0), pid(1), pid("never-written")])
    fan.delete("c", [])
    assert fan.count("c") == 8
    assert fan.retrieve("c", [pid(0), pid(1)]) == []
    assert pid(0) not in ids(fan.search("c", unit(0), 10, version=1))


# -- versions ---------------------------------------------------------------------------------


@pytest.fixture
def versions(store: VectorStore) -> VectorStore:
    """Points with different lifetimes: kept (1..OPEN), replaced (1..2), added (2..OPEN),
    and a candidate of version 3 (3..OPEN)."""
    store.create_collection("v", 4, "cosine")
    store.upsert(
        "v",
        [
            point(1, unit(0), v_from=1, v_to=OPEN),  # kept
            point(2, unit(10), v_from=1, v_to=2),  # replaced in version 2
            point(3, unit(20), v_from=2, v_to=OPEN),  # added in version 2
            point(4, unit(30), v_from=3, v_to=OPEN),  # candidate version 3
        ],
    )
    return store


@pytest.mark.parametrize(
    ("version", "visible"),
    [(0, set()), (1, {1, 2}), (2, {1, 3}), (3, {1, 3, 4}), (1000, {1, 3, 4})],
)
def test_version_filter_is_v_from_le_n_lt_v_to(
    versions: VectorStore, version: int, visible: set[int]
) -> None:
    expected = {pid(n) for n in visible}
    assert set(ids(versions.search("v", unit(0), 10, version=version))) == expected
    assert versions.count("v", version) == len(visible)
    assert {r.id for r in versions.scroll("v", version=version)} == expected
    assert versions.count("v") == 4


def test_set_v_to_closes_and_reopens(versions: VectorStore) -> None:
    versions.set_v_to("v", [pid(1)], 3)  # version 3 drops point 1
    assert versions.count("v", 2) == 2
    assert pid(1) not in ids(versions.search("v", unit(0), 10, version=3))
    assert pid(1) in ids(versions.search("v", unit(0), 10, version=2))  # old versions unchanged
    versions.set_v_to("v", [pid(1), pid("missing")], OPEN)  # reopen; missing ids ignored
    assert pid(1) in ids(versions.search("v", unit(0), 10, version=3))
    (rec,) = versions.retrieve("v", [pid(1)])
    assert rec.payload["v_to"] == OPEN


def test_rollback_uncommitted_deletes_new_and_reopens_closed(versions: VectorStore) -> None:
    # A sync building version 3 died after closing point 3 (v_to=3) and adding point 4.
    versions.set_v_to("v", [pid(3)], 3)
    changed = versions.rollback_uncommitted("v", head=2)
    assert changed == 2  # point 4 deleted, point 3 reopened
    assert versions.retrieve("v", [pid(4)]) == []
    (p3,) = versions.retrieve("v", [pid(3)])
    assert p3.payload["v_to"] == OPEN
    (p2,) = versions.retrieve("v", [pid(2)])
    assert p2.payload["v_to"] == 2  # closed by committed version 2: untouched
    assert versions.count("v", 2) == 2
    assert versions.count("v", 3) == 2
    assert versions.rollback_uncommitted("v", head=2) == 0  # nothing left to undo


def test_count_per_version(versions: VectorStore) -> None:
    assert [versions.count("v", n) for n in range(5)] == [0, 2, 2, 3, 3]


# -- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"doc_id": "doc-b"}, [1, 3, 5, 7, 9]),
        ({"doc_id": ["doc-a", "doc-b"]}, list(range(10))),
        ({"doc_id": ["doc-b", "doc-nope"]}, [1, 3, 5, 7, 9]),
        ({"metadata.source": "wiki"}, [0, 2, 4, 6, 8]),
        ({"metadata.page": 1}, [3, 4, 5]),
        ({"metadata.page": [0, 3]}, [0, 1, 2, 9]),
        ({"metadata.source": "drive", "metadata.page": 1}, [3, 5]),
        ({"chunk_id": "doc-a#4"}, [4]),
        ({"doc_id": "doc-nope"}, []),
        ({"doc_id": []}, []),
        ({}, list(range(10))),
        (None, list(range(10))),
    ],
)
def test_filters(fan: VectorStore, filters: dict | None, expected: list[int]) -> None:
    hits = fan.search("c", unit(0), 10, version=1, filters=filters)
    assert sorted(ids(hits)) == sorted(pid(n) for n in expected)
    assert ids(hits) == [pid(n) for n in sorted(expected)]  # still nearest first


def test_filters_combine_with_version(versions: VectorStore) -> None:
    versions.upsert("v", [point(5, unit(40), doc_id="doc-b", v_from=1)])
    assert ids(versions.search("v", unit(0), 10, version=1, filters={"doc_id": "doc-b"})) == [
        pid(5)
    ]
    assert ids(versions.search("v", unit(0), 10, version=2, filters={"doc_id": "doc-a"})) == [
        pid(1),
        pid(3),
    ]


@pytest.mark.parametrize(
    "filters",
    [{"flag": True}, {"score": 0.5}, {"doc_id": ["a", 1]}, {"doc_id": None}, {"bad key": "x"}],
)
def test_unsupported_filters_are_store_errors(fan: VectorStore, filters: dict) -> None:
    with pytest.raises(StoreError):
        fan.search("c", unit(0), 3, version=1, filters=filters)


# -- scroll and retrieve ----------------------------------------------------------------------


def test_scroll_without_vectors_across_pages(store: VectorStore) -> None:
    n_points = 2 * store.scroll_page_size + 37  # type: ignore[attr-defined]
    store.create_collection("s", 4, "cosine")
    store.upsert("s", [point(n, unit(n % 90), v_from=1 if n % 3 else 2) for n in range(n_points)])
    records = list(store.scroll("s"))
    assert len(records) == n_points
    assert {r.id for r in records} == {pid(n) for n in range(n_points)}
    assert all(list(r.vector) == [] for r in records)
    assert all(r.payload["text"].startswith("chunk number") for r in records)
    in_v1 = {r.id for r in store.scroll("s", version=1)}
    assert in_v1 == {pid(n) for n in range(n_points) if n % 3}


def test_scroll_with_vectors(fan: VectorStore) -> None:
    records = {r.id: r for r in fan.scroll("c", with_vectors=True)}
    assert len(records) == 10
    for n in range(10):
        assert list(records[pid(n)].vector) == pytest.approx(unit(10 * n), abs=1e-6)


def test_scroll_of_empty_collection(store: VectorStore) -> None:
    store.create_collection("e", 4, "cosine")
    assert list(store.scroll("e")) == []


def test_retrieve(fan: VectorStore) -> None:
    got = fan.retrieve("c", [pid(3), pid("missing"), pid(1)])
    assert ids(got) == [pid(3), pid(1)]  # existing ones, in the order asked
    assert got[0].payload["chunk_id"] == "doc-b#3"
    assert list(got[0].vector) == []
    (with_vec,) = fan.retrieve("c", [pid(2)], with_vectors=True)
    assert list(with_vec.vector) == pytest.approx(unit(20), abs=1e-6)
    assert fan.retrieve("c", []) == []


def test_retrieve_any_version(versions: VectorStore) -> None:
    assert len(versions.retrieve("v", [pid(1), pid(2), pid(3), pid(4)])) == 4


def test_ids_are_canonical_uuid_strings(store: VectorStore) -> None:
    store.create_collection("c", 4, "cosine")
    upper = pid(1).upper()
    store.upsert("c", [PointRecord(upper, unit(0), {"v_from": 1, "v_to": OPEN})])
    assert ids(store.search("c", unit(0), 1, version=1)) == [pid(1)]
    assert ids(store.retrieve("c", [upper])) == [pid(1)]


# -- aliases ----------------------------------------------------------------------------------


def test_aliases(store: VectorStore) -> None:
    store.create_collection("idx__aaa", 4, "cosine")
    store.create_collection("idx__bbb", 4, "cosine")
    assert store.get_alias("idx") is None
    store.set_alias("idx", "idx__aaa")
    assert store.get_alias("idx") == "idx__aaa"
    store.set_alias("idx", "idx__aaa")  # idempotent
    store.set_alias("idx", "idx__bbb")  # repoint
    assert store.get_alias("idx") == "idx__bbb"
    with pytest.raises(StoreError, match="does not exist|no such collection"):
        store.set_alias("idx", "idx__missing")
    assert store.get_alias("idx") == "idx__bbb"
    store.drop_collection("idx__bbb")  # dropping a collection drops its aliases
    assert store.get_alias("idx") is None


# -- HNSW against exact -----------------------------------------------------------------------


def _clustered(n: int, dim: int, seed: int) -> np.ndarray:
    """Unit vectors around 20 centres: a small stand-in for sentence embeddings."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, dim))
    vecs = centres[rng.integers(0, 20, n)] + 0.6 * rng.standard_normal((n, dim))
    return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)


def _true_top(data: np.ndarray, visible: np.ndarray, query: np.ndarray, k: int) -> set[str]:
    """The k nearest visible points by brute force in numpy: the ground truth."""
    scores = np.where(visible, data @ query, -np.inf)
    return {pid(int(n)) for n in np.argsort(-scores)[:k]}


@pytest.mark.parametrize("kind", ADAPTERS)
def test_searches_find_the_true_nearest_points(
    kind: str, tmp_path: Path, open_adapter: OpenAdapter
) -> None:
    """Both modes against numpy's brute force. On the embedded engine ``exact=False`` runs a
    real HNSW graph (forced even on 600 points) and must find >= 98 % of the true top 10;
    exact search, and qdrant-client's in-memory engine, must find all of it."""
    kwargs = {"exact_search_below": 1, "hnsw_build_above": 1} if kind == "edge" else {}
    store = open_adapter(kind, tmp_path, **kwargs)
    try:
        dim = 32
        data = _clustered(600, dim, seed=1)
        in_version_1 = np.array([n % 4 != 0 for n in range(600)])
        store.create_collection("h", dim, "cosine")
        store.upsert(
            "h", [point(n, data[n].tolist(), v_from=1 if n % 4 else 2) for n in range(600)]
        )
        store.optimize("h")
        if kind == "edge":  # the HNSW graph really exists
            shard = store._shard("h")  # type: ignore[attr-defined]
            assert shard.info().indexed_vectors_count > 0
        queries = _clustered(30, dim, seed=2)
        approx_found = exact_found = 0
        for q in queries:
            truth = _true_top(data, in_version_1, q, 10)
            approx = store.search("h", q.tolist(), 10, version=1)
            exact = store.search("h", q.tolist(), 10, version=1, exact=True)
            assert all(h.payload["v_from"] == 1 for h in approx)
            approx_found += len(set(ids(approx)) & truth)
            exact_found += len(set(ids(exact)) & truth)
        assert exact_found == 10 * len(queries)
        assert approx_found / (10 * len(queries)) >= (0.98 if kind == "edge" else 1.0)
    finally:
        store.close()


def _edge_recall(path: Path, **kwargs: object) -> float:
    """recall@10 of exact=False against exact=True on 2,000 clustered points, HNSW built."""
    with EdgeStore(path, hnsw_build_above=1, **kwargs) as store:  # type: ignore[arg-type]
        data = _clustered(2000, 64, seed=3)
        store.create_collection("h", 64, "cosine")
        store.upsert("h", [point(n, data[n].tolist()) for n in range(2000)])
        store.optimize("h")
        assert store._shard("h").info().indexed_vectors_count == 2000
        overlap = 0
        for q in _clustered(30, 64, seed=4):
            approx = store.search("h", q.tolist(), 10, version=1)
            exact = store.search("h", q.tolist(), 10, version=1, exact=True)
            overlap += len(set(ids(approx)) & set(ids(exact)))
        return overlap / 300


def test_edge_searches_small_collections_exactly_even_with_an_hnsw_index(
    tmp_path: Path,
) -> None:
    # A deliberately useless hnsw_ef=1: HNSW answers are then visibly approximate ...
    assert _edge_recall(tmp_path / "forced", hnsw_ef=1, exact_search_below=1) < 0.95
    # ... but below EXACT_SEARCH_BELOW candidates Qdrant's planner scans instead.
    assert _edge_recall(tmp_path / "default", hnsw_ef=1) == 1.0


# -- the embedded store's files, lock and lifecycle -------------------------------------------


def _run_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC_DIR), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_edge_data_persists_after_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with EdgeStore(path) as store:
        store.create_collection("c", 4, "cosine")
        store.upsert("c", [point(n, unit(10 * n)) for n in range(5)])
        store.set_v_to("c", [pid(0)], 2)
        store.set_alias("prod", "c")
    with EdgeStore(path) as store:
        assert store.list_collections() == ["c"]
        assert store.get_alias("prod") == "c"
        assert store.count("c") == 5
        assert store.count("c", 2) == 4
        assert ids(store.search("c", unit(41), 1, version=2)) == [pid(4)]
        store.create_collection("c", 4, "cosine")  # still idempotent after reopen
        with pytest.raises(StoreError, match="exists with dimension 4"):
            store.create_collection("c", 5, "cosine")


def test_edge_upsert_is_durable_when_the_process_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "store"
    code = f"""
        import os, signal, uuid
        from ragops.store import OPEN, PointRecord
        from ragops.store.edge import EdgeStore
        s = EdgeStore({str(path)!r})
        s.create_collection("c", 4, "cosine")
        s.upsert("c", [PointRecord(str(uuid.uuid5(uuid.NAMESPACE_OID, str(n))), [1.0, n, 0, 0],
                                   {{"v_from": 1, "v_to": OPEN}}) for n in range(300)])
        os.kill(os.getpid(), signal.SIGKILL)
    """
    result = _run_python(code)
    assert result.returncode == -9, result.stderr
    with EdgeStore(path) as store:  # the kernel released the dead holder's lock
        assert store.count("c", 1) == 300


def test_edge_second_process_gets_store_locked_error(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with EdgeStore(path) as store:
        store.create_collection("c", 4, "cosine")
        code = f"""
            from ragops.errors import StoreLockedError
            from ragops.store.edge import EdgeStore
            try:
                EdgeStore({str(path)!r})
            except StoreLockedError as exc:
                print("LOCKED:", exc)
            else:
                print("OPENED")
        """
        result = _run_python(code)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        assert out.startswith("LOCKED:"), out + result.stderr
        assert f"PID {os.getpid()}" in out
        assert str(path.resolve()) in out
        assert "store.url" in out and "wait for it to finish" in out
        assert "Traceback" not in result.stderr
        assert store.count("c") == 0  # the holder is unaffected
    result = _run_python(code)  # released on close: the other process may open it now
    assert result.stdout.startswith("OPENED"), result.stdout + result.stderr


def test_edge_second_store_in_same_process_is_refused(tmp_path: Path) -> None:
    with EdgeStore(tmp_path / "store"), pytest.raises(StoreLockedError, match="same process"):
        EdgeStore(tmp_path / "store")


def test_edge_layout(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with EdgeStore(path) as store:
        store.create_collection("idx__abc", 4, "cosine")
        store.set_alias("idx", "idx__abc")
        lock_text = (path / ".lock").read_text()
        assert f'"pid": {os.getpid()}' in lock_text
    assert (path / "collections" / "idx__abc").is_dir()
    assert (path / "aliases.json").read_text().strip().startswith("{")
    assert not list(path.glob(".aliases.*.tmp"))


@pytest.mark.parametrize("kind", ADAPTERS)
def test_closed_store_refuses_calls(kind: str, tmp_path: Path, open_adapter: OpenAdapter) -> None:
    store = open_adapter(kind, tmp_path)
    store.create_collection("c", 4, "cosine")
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        store.count("c")


def test_open_store_picks_the_adapter(tmp_path: Path) -> None:
    from ragops.store.client import ClientStore

    memory = open_store(":memory:", tmp_path / "ignored")
    assert isinstance(memory, ClientStore) and isinstance(memory, VectorStore)
    memory.close()
    edge = open_store(None, tmp_path / "store")
    assert isinstance(edge, EdgeStore) and isinstance(edge, VectorStore)
    assert str(tmp_path) in edge.description
    edge.close()
    with pytest.raises(StoreError, match="store.path"):
        open_store(None, None)


# -- renaming and retention's deletes ---------------------------------------------------------


def test_rename_collection_keeps_points_vectors_and_aliases(store: VectorStore) -> None:
    store.create_collection("old", 4, "cosine")
    store.upsert("old", [point(n, unit(n * 10), v_from=1 + n % 2) for n in range(5)])
    store.set_alias("idx", "old")
    store.rename_collection("old", "new")
    assert not store.collection_exists("old") and store.collection_exists("new")
    assert store.get_alias("idx") == "new"
    assert store.count("new") == 5 and store.count("new", 1) == 3
    [hit] = store.search("new", unit(20), 1, version=3)
    assert hit.id == pid(2)
    [record] = store.retrieve("new", [pid(4)], with_vectors=True)
    assert np.allclose(record.vector, unit(40), atol=1e-6)
    with pytest.raises(StoreError, match="'old'"):
        store.rename_collection("old", "other")


def test_delete_closed_removes_exactly_the_points_between_kept_versions(
    store: VectorStore,
) -> None:
    store.create_collection("c", 4, "cosine")
    lives = {0: (1, 2), 1: (1, 4), 2: (2, 3), 3: (3, 4), 4: (3, OPEN), 5: (5, OPEN)}
    store.upsert("c", [point(n, unit(n * 10), v_from=a, v_to=b) for n, (a, b) in lives.items()])
    # versions 1 and 4 are kept: points living only in 2 or 3 go
    assert store.delete_closed("c", None, 1) == 0
    assert store.delete_closed("c", 1, 4) == 2
    assert sorted(p.id for p in store.scroll("c")) == sorted(pid(n) for n in (0, 1, 4, 5))


# -- one hit per document -------------------------------------------------------------------


def test_grouped_search_returns_each_document_once_best_first(store: VectorStore) -> None:
    """One long document whose 60 chunks are all nearer than any other document's: the groups
    still hold k distinct documents (the embedded adapter must search deeper than its first
    try), each with its best chunks, closed points excluded."""
    store.create_collection("c", 4, "cosine")
    big = [point(n, unit(n * 0.5), doc_id="big") for n in range(60)]  # 0° … 29.5°
    others = [point(100 + n, unit(40 + n * 5), doc_id=f"doc-{n}") for n in range(4)]
    closed = point(200, unit(0.1), doc_id="gone", v_to=1)  # not in version 1
    extra = point(201, unit(41), doc_id="doc-0")  # doc-0's second chunk
    store.upsert("c", [*big, *others, closed, extra])

    groups = store.search_groups("c", unit(0), 3, version=1)
    assert [[p.payload["doc_id"] for p in g] for g in groups] == [["big"], ["doc-0"], ["doc-1"]]
    assert [g[0].id for g in groups] == [pid(0), pid(100), pid(101)]

    pairs = store.search_groups("c", unit(0), 2, version=1, group_size=2)
    assert [[p.id for p in g] for g in pairs] == [[pid(0), pid(1)], [pid(100), pid(201)]]
    assert pairs[0][0].score > pairs[0][1].score > pairs[1][0].score

    everything = store.search_groups("c", unit(0), 50, version=1)
    assert [g[0].payload["doc_id"] for g in everything] == ["big", *(f"doc-{n}" for n in range(4))]
    only = store.search_groups("c", unit(0), 5, version=1, filters={"doc_id": ["doc-2", "doc-3"]})
    assert [g[0].payload["doc_id"] for g in only] == ["doc-2", "doc-3"]
    assert store.search_groups("c", unit(0), 0, version=1) == []
