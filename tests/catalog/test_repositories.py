"""The catalog's repositories on SQLite and PostgreSQL: generations, versions, documents,
pointers (index environments and prompt aliases alike) and eval evidence."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ragops.catalog import INDEX, PROMPT, Catalog, DocumentState
from ragops.errors import ConfigError, IndexNotFoundError, PromotionError


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[Catalog]:
    catalog = Catalog(catalog_url)
    yield catalog
    catalog.close()


def _doc(
    doc_id: str, chunks: tuple[str, ...], version: int = -1, status: str = "indexed"
) -> DocumentState:
    return DocumentState(
        source="docs",
        doc_id=doc_id,
        version_marker="m1",
        content_sha256="h",
        status=status,
        reason=None if status == "indexed" else "broken",
        chunk_ids=chunks,
        point_ids=tuple(f"p-{c}" for c in chunks),
        updated_version=version,
        metadata_sha256="m" * 64,
    )


def test_generation_is_created_once_per_fingerprint(catalog: Catalog) -> None:
    generations = catalog.generations
    first = generations.get_or_create("docs", "a" * 64, {"x": 1}, 384, "cosine", "docs__a")
    again = generations.get_or_create("docs", "a" * 64, {"x": 1}, 384, "cosine", "ignored")
    other = generations.get_or_create("docs", "b" * 64, {"x": 2}, 384, "cosine", "docs__b")
    assert first.id == again.id != other.id
    assert again.collection == "docs__a"
    assert [g.fingerprint[0] for g in generations.of_index("docs")] == ["a", "b"]
    generations.rename_collection(first.id, "docs__a__p1")
    assert generations.get(first.id).collection == "docs__a__p1"


def test_commit_version_records_documents_atomically(catalog: Catalog) -> None:
    generation = catalog.generations.get_or_create("docs", "a" * 64, {}, 384, "cosine", "c")
    versions = catalog.versions
    assert versions.next_number("docs") == 1
    versions.commit(
        "docs",
        1,
        generation.id,
        [_doc("a.md", ("c1", "c2"), 1), _doc("b.md", ("c3",), 1)],
        [],
        {"chunks": 3},
    )
    versions.commit(
        "docs", 2, generation.id, [_doc("c.md", (), 2, "quarantined")], [("docs", "a.md")], {}
    )
    documents = catalog.documents.states(generation.id)
    assert set(documents) == {("docs", "b.md"), ("docs", "c.md")}
    assert documents[("docs", "b.md")].metadata_sha256 == "m" * 64
    quarantined = catalog.documents.states(generation.id, status="quarantined")
    assert quarantined[("docs", "c.md")].reason == "broken"
    assert [v.number for v in versions.of_index("docs")] == [1, 2]
    assert versions.get("docs", 2).documents == 1  # indexed documents only
    assert versions.next_number("docs") == 3
    with pytest.raises(IndexNotFoundError, match="no version 7; versions: 1, 2"):
        versions.get("docs", 7)
    versions.mark_pruned("docs", [1])
    with pytest.raises(IndexNotFoundError, match="removed by retention"):
        versions.get("docs", 1)
    assert [v.number for v in versions.live("docs")] == [2]


def test_a_fence_that_refuses_commits_nothing(catalog: Catalog) -> None:
    generation = catalog.generations.get_or_create("docs", "a" * 64, {}, 384, "cosine", "c")

    def lost(_connection: object) -> None:
        raise PromotionError("lease lost")

    with pytest.raises(PromotionError):
        catalog.versions.commit(
            "docs", 1, generation.id, [_doc("a.md", ("c1",), 1)], [], {}, fence=lost
        )
    assert catalog.versions.of_index("docs") == []
    assert catalog.documents.states(generation.id) == {}


def test_pointer_moves_are_recorded_guarded_and_stacked(catalog: Catalog) -> None:
    pointers = catalog.pointers
    assert pointers.get(INDEX, "docs", "production") is None
    pointers.move(INDEX, "docs", "production", "1", action="promote", actor="alice")
    pointers.move(INDEX, "docs", "production", "2", action="promote", actor="bob", reason="ok")
    assert pointers.get(INDEX, "docs", "production").version == 2  # type: ignore[union-attr]
    with pytest.raises(PromotionError, match="moved to 2 while this change expected 1"):
        pointers.move(
            INDEX, "docs", "production", "1", action="rollback", actor="c", expected_from="1"
        )
    pointers.move(INDEX, "docs", "production", "1", action="rollback", actor="carol")
    pointers.move(INDEX, "docs", "production", "3", action="promote", actor="dan")
    history = pointers.history(INDEX, "docs")
    assert [(h.from_version, h.to_version, h.actor) for h in history] == [
        (None, 1, "alice"),
        (1, 2, "bob"),
        (2, 1, "carol"),
        (1, 3, "dan"),
    ]
    assert [m.to_target for m in pointers.stack(INDEX, "docs", "production")] == ["1", "3"]
    # prompt aliases are pointers of another kind: same table, no crosstalk
    pointers.move(PROMPT, "docs", "production", "f" * 64, action="promote", actor="erin")
    assert pointers.get(INDEX, "docs", "production").target == "3"  # type: ignore[union-attr]
    assert len(pointers.history(PROMPT, "docs")) == 1


def test_evidence_matches_eval_set_content_prompt_and_judge(catalog: Catalog) -> None:
    evals = catalog.evals
    evals.record("docs", 1, "q", 5, {"recall@5": 0.5}, {}, 0.1, dataset_sha256="h1")
    evals.record(
        "docs", 1, "q", 5, {"recall@5": 0.6}, {}, 0.1, dataset_sha256="h1", prompt_sha256="p1"
    )
    evals.record(
        "docs", 1, "q", 5, {"recall@5": 0.7}, {}, 0.1, dataset_sha256="h2", prompt_sha256="p1",
        judge="judge-a",
    )  # fmt: skip
    assert evals.matching("docs", 1, "q", "h1", None).metrics == {"recall@5": 0.5}  # type: ignore[union-attr]
    assert evals.matching("docs", 1, "q", "h1", "p1").metrics == {"recall@5": 0.6}  # type: ignore[union-attr]
    assert evals.matching("docs", 1, "q", "h3", "p1") is None, "another eval set content"
    assert evals.matching("docs", 2, "q", "h1", None) is None, "another version"
    assert evals.matching("docs", 1, "q", "h2", "p1", "judge-b", same_judge=True) is None
    assert evals.matching("docs", 1, "q", "h2", "p1", "judge-b") is not None
    assert [r.version for r in evals.of_version("docs")] == [1, 1, 1]


def test_a_catalog_belongs_to_one_project(catalog: Catalog) -> None:
    first = catalog.identity.ensure("alpha")
    assert catalog.identity.ensure("alpha") == first and len(first) == 8
    with pytest.raises(ConfigError, match="belongs to project 'alpha'"):
        catalog.identity.ensure("beta")
