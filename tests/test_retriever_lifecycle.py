"""The Retriever library, promotion with gates, rollback and history."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragops import Retriever
from ragops.errors import IndexNotFoundError, PromotionError
from ragops.evals.evaluate import evaluate_index
from ragops.environments import promote, rollback
from ragops.project import Project
from tests.conftest import write_project


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A project with version 1 built and evaluated (not promoted)."""
    path = write_project(tmp_path / "p", gates=["recall@5 >= 0.75", "ndcg@10 >= production - 0.05"])
    with Project.open(path) as project:
        project.sync()
        evaluate_index(project, "docs")
    return path


def test_search_before_any_promotion_says_what_to_do(built: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="promote a version first"):
        Retriever.open("docs", config=built)


def test_retriever_finds_the_right_document_and_reports_its_version(built: Path) -> None:
    with Retriever.open("docs", config=built, version=1) as retriever:
        hits = retriever.search("how many hours of sun do tomatoes need?", k=2)
        assert hits[0].doc_id == "gardening.md"
        assert hits[0].version == 1 and hits[0].score >= hits[1].score
        assert "six hours" in hits[0].text
        assert hits[0].metadata["extension"] == ".md"
        only_html = retriever.search("tomatoes", k=5, filters={"extension": ".html"})
        assert {h.doc_id for h in only_html} == {"bread.html"}
        by_doc = retriever.search(
            "anything", k=5, filters={"doc_id": ["astronomy.md", "rollback.md"]}
        )
        assert {h.doc_id for h in by_doc} <= {"astronomy.md", "rollback.md"} and by_doc


def test_as_llama_index_returns_nodes_with_chunk_ids(built: Path) -> None:
    from llama_index.core.retrievers import BaseRetriever

    with Retriever.open("docs", config=built, version=1) as retriever:
        llama = retriever.as_llama_index(k=3)
        assert isinstance(llama, BaseRetriever)
        nodes = llama.retrieve("What causes the tides?")
        assert nodes[0].node.metadata["doc_id"] == "astronomy.md"
        assert nodes[0].node.node_id == retriever.search("What causes the tides?", k=1)[0].chunk_id


def test_promotion_checks_gates_and_records_evidence(built: Path) -> None:
    with Project.open(built) as project:
        entry = promote(project, "docs", 1)
        assert entry.to_version == 1 and not entry.forced
        gates = {g["gate"]: g for g in entry.evidence["gates"]}
        assert gates["recall@5 >= 0.75"]["passed"] and gates["recall@5 >= 0.75"]["value"] >= 0.75
        assert "no production baseline" in gates["ndcg@10 >= production - 0.05"]["detail"]
        assert (
            project.store.get_alias("docs")
            == project.catalog.generation(
                project.catalog.version("docs", 1).generation_id
            ).collection
        )


def test_failing_gate_refuses_with_metric_value_and_bound_and_force_is_audited(built: Path) -> None:
    strict = built.read_text().replace("recall@5 >= 0.75", "recall@5 >= 1.01")
    built.write_text(strict)
    with Project.open(built) as project:
        with pytest.raises(
            PromotionError, match=r"recall@5 >= 1.01: recall@5 = 1\.0000 fails >= 1\.0100"
        ):
            promote(project, "docs", 1)
        with pytest.raises(PromotionError, match="--force needs --reason"):
            promote(project, "docs", 1, force=True)
        entry = promote(project, "docs", 1, force=True, reason="eval set is being rewritten")
        assert entry.forced and entry.reason == "eval set is being rewritten"
        assert project.catalog.history("docs")[-1].forced


def test_unevaluated_version_cannot_reach_production(built: Path) -> None:
    docs = built.parent / "docs"
    (docs / "new.md").write_text("# Bees\n\nBees make honey.\n")
    with Project.open(built) as project:
        project.sync()
        with pytest.raises(PromotionError, match="version 2 has no 'recall@5' result"):
            promote(project, "docs", 2)
        promote(project, "docs", 2, env="staging")  # gates guard production only
        assert project.catalog.environment("docs", "staging").version == 2


def test_rollback_walks_back_through_promotions_and_readers_follow(built: Path) -> None:
    docs = built.parent / "docs"
    with Project.open(built) as project:
        promote(project, "docs", 1)
        (docs / "new.md").write_text("# Bees\n\nBees make honey from nectar.\n")
        project.sync()
        evaluate_index(project, "docs")
        promote(project, "docs", 2)
        retriever = Retriever(project, "docs")
        assert retriever.version == 2
        assert "new.md" in {h.doc_id for h in retriever.search("honey bees nectar", k=2)}
        entry = rollback(project, "docs", reason="bees are off-topic")
        assert (entry.from_version, entry.to_version) == (2, 1)
        assert retriever.version == 1, "a long-lived retriever follows production"
        assert "new.md" not in {h.doc_id for h in retriever.search("honey bees nectar", k=5)}
        with pytest.raises(PromotionError, match="no earlier version"):
            rollback(project, "docs")
        actions = [
            (h.action, h.from_version, h.to_version) for h in project.catalog.history("docs")
        ]
        assert actions == [("promote", None, 1), ("promote", 1, 2), ("rollback", 2, 1)]
