"""Sparse (BM25) and hybrid queries, on both adapters: what modes, fusion and the version
filters inside each branch must do. Sparse vectors are made by ragops' real BM25 encoder."""

from __future__ import annotations

import math
import uuid

import pytest

from ragops.errors import StoreError
from ragops.store import OPEN, PointRecord, SearchQuery, VectorStore
from ragops.vectors.sparse import SparseEncoder

NS = uuid.UUID("5f1c0d3e-9a2b-4c6d-8e7f-102030405060")
BM25 = SparseEncoder({"language": "english"}, avg_len=8.0)

#: (text, angle of its dense vector, doc_id, v_from, v_to)
TEXTS = [
    ("how to roll back production to an earlier index version", 0, "lifecycle", 1, OPEN),
    ("the error code QX7731 means the catalog is locked", 80, "errors", 1, OPEN),
    ("promotion moves an index version from staging to production", 10, "promote", 1, OPEN),
    ("QX7731 retired text that version 2 replaced", 5, "errors", 1, 2),
    ("gardening tips for tomatoes and basil", 45, "garden", 1, OPEN),
]


def pid(n: int) -> str:
    return str(uuid.uuid5(NS, str(n)))


def unit(degrees: float) -> list[float]:
    rad = math.radians(degrees)
    return [math.cos(rad), math.sin(rad), 0.0, 0.0]


@pytest.fixture
def hybrid(store: VectorStore) -> VectorStore:
    store.create_collection("h", 4, "cosine", sparse=True)
    store.upsert(
        "h",
        [
            PointRecord(
                id=pid(n),
                vector=unit(angle),
                sparse=BM25.documents([text])[0],
                payload={"doc_id": doc, "text": text, "v_from": v_from, "v_to": v_to},
            )
            for n, (text, angle, doc, v_from, v_to) in enumerate(TEXTS)
        ],
    )
    return store


def docs(points: list) -> list[str]:
    return [p.payload["doc_id"] for p in points]


def test_a_collection_knows_whether_it_has_sparse_vectors(store: VectorStore) -> None:
    store.create_collection("dense", 4, "cosine")
    store.create_collection("both", 4, "cosine", sparse=True)
    assert not store.has_sparse("dense") and store.has_sparse("both")
    store.create_collection("both", 4, "cosine", sparse=True)  # idempotent
    with pytest.raises(StoreError, match="no sparse vector"):
        store.create_collection("dense", 4, "cosine", sparse=True)


def test_sparse_query_finds_the_rare_identifier_that_dense_misses(hybrid: VectorStore) -> None:
    near_lifecycle = unit(0)  # the dense vector of a query about something else entirely
    sparse = BM25.query("QX7731")
    assert docs(hybrid.query("h", SearchQuery(sparse=sparse), 5, version=2)) == ["errors"]
    assert "errors" not in docs(hybrid.query("h", SearchQuery(dense=near_lifecycle), 2, version=2))
    fused = hybrid.query("h", SearchQuery(dense=near_lifecycle, sparse=sparse), 2, version=2)
    assert "errors" in docs(fused)


def test_hits_carry_each_branch_score(hybrid: VectorStore) -> None:
    query = SearchQuery(dense=unit(0), sparse=BM25.query("roll back production"), prefetch=10)
    hits = hybrid.query("h", query, 3, version=2)
    assert docs(hits)[0] == "lifecycle"
    top = hits[0]
    assert top.dense_score == pytest.approx(1.0, abs=1e-5)
    assert top.sparse_score is not None and top.sparse_score > 0
    assert top.score == pytest.approx(2 / 60, abs=1e-4)  # RRF: first (rank 0) in both, k=60
    garden = hybrid.query("h", SearchQuery(dense=unit(45), sparse=query.sparse), 5, version=2)
    by_doc = {p.payload["doc_id"]: p for p in garden}
    assert by_doc["garden"].sparse_score is None  # none of the query's words
    assert by_doc["garden"].dense_score == pytest.approx(1.0, abs=1e-5)
    sparse_only = hybrid.query("h", SearchQuery(sparse=query.sparse), 3, version=2)
    assert all(p.dense_score is None and p.sparse_score == p.score for p in sparse_only)
    dense_only = hybrid.query("h", SearchQuery(dense=unit(0)), 3, version=2)
    assert all(p.sparse_score is None and p.dense_score == p.score for p in dense_only)


def test_version_filter_holds_inside_every_branch(hybrid: VectorStore) -> None:
    """Point 3 (closed at version 2) matches QX7731 and sits nearest the dense query: it must
    come back in version 1 and never in version 2, through either branch."""
    query = SearchQuery(dense=unit(5), sparse=BM25.query("QX7731 retired"))
    for fusion in ("rrf", "dbsf"):
        request = SearchQuery(dense=query.dense, sparse=query.sparse, fusion=fusion)
        assert pid(3) in [p.id for p in hybrid.query("h", request, 5, version=1)]
        assert pid(3) not in [p.id for p in hybrid.query("h", request, 5, version=2)]
    assert pid(3) not in [p.id for p in hybrid.query("h", SearchQuery(sparse=query.sparse), 5, 2)]


def test_caller_filters_hold_inside_every_branch(hybrid: VectorStore) -> None:
    request = SearchQuery(dense=unit(80), sparse=BM25.query("QX7731 error code"))
    found = hybrid.query("h", request, 5, version=2, filters={"doc_id": ["garden", "promote"]})
    assert set(docs(found)) <= {"garden", "promote"} and found


def test_weights_move_the_fused_ranking(hybrid: VectorStore) -> None:
    """The dense vector points at 'promote', the words at 'errors' (each branch takes its 2
    best, so neither document is in the other's list): the heavier branch wins."""
    dense, sparse = unit(10), BM25.query("error code catalog locked")
    toward_dense = SearchQuery(dense=dense, sparse=sparse, weights=(5.0, 1.0), prefetch=2)
    toward_sparse = SearchQuery(dense=dense, sparse=sparse, weights=(1.0, 5.0), prefetch=2)
    assert docs(hybrid.query("h", toward_dense, 1, version=2)) == ["promote"]
    assert docs(hybrid.query("h", toward_sparse, 1, version=2)) == ["errors"]


def test_a_query_of_stopwords_only(hybrid: VectorStore) -> None:
    empty = BM25.query("the of and")
    assert not empty
    assert hybrid.query("h", SearchQuery(sparse=empty), 5, version=2) == []
    fallback = hybrid.query("h", SearchQuery(dense=unit(45), sparse=empty), 1, version=2)
    assert docs(fallback) == ["garden"]


def test_dense_only_collections_refuse_sparse_queries(store: VectorStore) -> None:
    store.create_collection("d", 4, "cosine")
    with pytest.raises(StoreError, match="only be searched densely"):
        store.query("d", SearchQuery(sparse=BM25.query("anything")), 3, version=1)


def test_sparse_vectors_come_back_with_the_points(hybrid: VectorStore) -> None:
    [record] = hybrid.retrieve("h", [pid(1)], with_vectors=True)
    assert record.sparse == BM25.documents([TEXTS[1][0]])[0]
    assert len(record.vector) == 4
    scrolled = {p.id: p for p in hybrid.scroll("h", with_vectors=True)}
    assert scrolled[pid(0)].sparse == BM25.documents([TEXTS[0][0]])[0]
    hybrid.rename_collection("h", "h2")
    assert hybrid.has_sparse("h2")
    found = hybrid.query("h2", SearchQuery(sparse=BM25.query("QX7731")), 5, version=2)
    assert docs(found) == ["errors"]


def test_branch_scores_on_request_for_chosen_points(hybrid: VectorStore) -> None:
    """Grouped searches fetch many hits without branch scores, then score only those kept."""
    request = SearchQuery(dense=unit(45), sparse=BM25.query("roll back production"))
    unscored = SearchQuery(dense=request.dense, sparse=request.sparse, branch_scores=False)
    bare = hybrid.query("h", unscored, 3, version=2)
    assert bare and all(p.dense_score is None and p.sparse_score is None for p in bare)
    dense, sparse = hybrid.score_branches("h", request, [pid(0), pid(4)])
    assert set(dense) == {pid(0), pid(4)}
    assert dense[pid(4)] == pytest.approx(1.0, abs=1e-5)  # garden sits at 45°
    assert set(sparse) == {pid(0)}  # the garden text holds none of the words
    full = {p.id: p for p in hybrid.query("h", request, 5, version=2)}
    assert sparse[pid(0)] == pytest.approx(full[pid(0)].sparse_score, rel=1e-5)
