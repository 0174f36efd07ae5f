"""The Retriever, promotion with gates and evidence, rollback and history, on SQLite and
PostgreSQL catalogs; the store alias and the pointer move together."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import ragops
from ragops import Retriever
from ragops.catalog import INDEX, PROMPT
from ragops.environments import promote, rollback
from ragops.errors import EvalError, IndexNotFoundError, PromotionError, StoreLockedError
from ragops.evals.evaluate import evaluate_index
from ragops.project import Project
from tests.conftest import EVALS, write_project


@pytest.fixture
def built(tmp_path: Path, catalog_url: str) -> Path:
    """A project with version 1 built and evaluated (not promoted)."""
    path = write_project(
        tmp_path / "p",
        catalog_url=catalog_url,
        gates=["recall@5 >= 0.75", "ndcg@10 >= production - 0.05"],
    )
    with Project.open(path) as project:
        ragops.sync(project)
        evaluate_index(project, "docs")
    return path


def _collection(project: Project, version: int) -> str:
    info = project.catalog.versions.get("docs", version)
    return project.catalog.generations.get(info.generation_id).collection


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


def test_the_first_promotion_needs_a_baseline_or_allow_first_promotion(built: Path) -> None:
    with Project.open(built) as project:
        with pytest.raises(PromotionError, match="no production version yet to compare"):
            promote(project, "docs", 1)
        assert project.catalog.pointers.get(INDEX, "docs", "production") is None
    built.write_text(built.read_text() + "    allow_first_promotion: true\n")
    with Project.open(built) as project:
        promotion = promote(project, "docs", 1)
        assert promotion.to_version == 1 and not promotion.forced
        gates = {g.gate: g for g in promotion.gates}
        assert gates["recall@5 >= 0.75"].passed and gates["recall@5 >= 0.75"].value >= 0.75
        relative = gates["ndcg@10 >= production - 0.05"]
        assert relative.passed and "waived: allow_first_promotion" in relative.detail
        evidence = gates["recall@5 >= 0.75"].evidence
        assert evidence is not None and evidence["eval_set"] == "questions"
        assert len(evidence["eval_set_sha256"]) == 64
        assert project.store.get_alias(project.alias_name("docs")) == _collection(project, 1)
        again = promote(project, "docs", 1)
        assert again.action == "unchanged", "promoting what production serves records nothing"
        assert len(project.catalog.pointers.history(INDEX, "docs")) == 1


def test_failing_gate_refuses_with_metric_value_and_bound_and_force_is_audited(built: Path) -> None:
    built.write_text(built.read_text().replace("recall@5 >= 0.75", "recall@5 >= 1.01"))
    with Project.open(built) as project:
        with pytest.raises(
            PromotionError, match=r"recall@5 >= 1.01 \[questions\]: recall@5 = 1\.0000 fails"
        ):
            promote(project, "docs", 1)
        with pytest.raises(PromotionError, match="--force needs --reason"):
            promote(project, "docs", 1, force=True)
        forced = promote(project, "docs", 1, force=True, reason="eval set is being rewritten")
        assert forced.forced and forced.reason == "eval set is being rewritten"
        assert project.catalog.pointers.history(INDEX, "docs")[-1].forced


def test_gates_hold_on_every_eval_set_with_evidence_of_its_current_content(
    tmp_path: Path, catalog_url: str
) -> None:
    path = write_project(
        tmp_path / "p",
        catalog_url=catalog_url,
        gates=["recall@5 >= 0.5", "hard: recall@1 >= 0.9"],
        extra_index="    allow_first_promotion: true\n",
    )
    hard = path.parent / "evals" / "hard.jsonl"
    hard.write_text(
        json.dumps({"question": "tomato stake", "reference_doc_ids": ["gardening.md"]}) + "\n"
    )
    path.write_text(
        path.read_text().replace(
            "k: 5}\n", "k: 5}\n      - {name: hard, path: evals/hard.jsonl, k: 5}\n"
        )
    )
    with Project.open(path) as project:
        ragops.sync(project)
        evaluate_index(project, "docs", dataset="questions")
        with pytest.raises(PromotionError, match=r"hard: recall@1 >= 0.9 \[hard\]: no eval"):
            promote(project, "docs", 1)
        evaluate_index(project, "docs")
        promotion = promote(project, "docs", 1)
        checked = sorted((g.gate, g.eval_set) for g in promotion.gates)
        assert checked == [
            ("hard: recall@1 >= 0.9", "hard"),
            ("recall@5 >= 0.5", "hard"),
            ("recall@5 >= 0.5", "questions"),
        ], "an unscoped gate holds on every eval set; a scoped one on its own"
        history = project.catalog.pointers.history(INDEX, "docs")[-1]
        assert {g["eval_set"] for g in history.evidence["gates"]} == {"hard", "questions"}
        # an edited eval set is new evidence: the old eval no longer counts
        hard.write_text(hard.read_text() + json.dumps(EVALS[2]) + "\n")
        from ragops import pipeline

        verdict = pipeline.gate(project, pipeline.Candidate("docs", 1))
        assert not verdict.passed and all(
            "as it is now" in g.detail for g in verdict.gates if g.eval_set == "hard"
        )


def test_a_relative_gate_is_refused_when_production_lacks_the_baseline(built: Path) -> None:
    docs = built.parent / "docs"
    built.write_text(built.read_text() + "    allow_first_promotion: true\n")
    with Project.open(built) as project:
        promote(project, "docs", 1)
        (docs / "new.md").write_text("# Bees\n\nBees make honey.\n")
        ragops.sync(project)
        evaluate_index(project, "docs", version=2)
        (built.parent / "evals" / "questions.jsonl").write_text(
            "".join(json.dumps(row) + "\n" for row in EVALS[:3])
        )
        evaluate_index(project, "docs", version=2)
        with pytest.raises(PromotionError, match=r"production \(version 1\) has no ndcg@10"):
            promote(project, "docs", 2)
        evaluate_index(project, "docs", version=1)  # measure the baseline: now it can pass
        assert promote(project, "docs", 2).to_version == 2


def test_an_unevaluated_version_cannot_reach_production(built: Path) -> None:
    docs = built.parent / "docs"
    (docs / "new.md").write_text("# Bees\n\nBees make honey.\n")
    with Project.open(built) as project:
        ragops.sync(project)
        with pytest.raises(PromotionError, match="no eval of version 2"):
            promote(project, "docs", 2)
        promote(project, "docs", 2, env="staging")  # gates guard production only
        assert project.catalog.pointers.get(INDEX, "docs", "staging").version == 2  # type: ignore[union-attr]


def test_rollback_walks_back_and_tells_the_truth_about_history(built: Path) -> None:
    docs = built.parent / "docs"
    with Project.open(built) as project:
        promote(project, "docs", 1, force=True, reason="baseline")
        for n in (2, 3):
            (docs / f"new{n}.md").write_text(f"# Bees {n}\n\nBees make honey from nectar {n}.\n")
            ragops.sync(project)
            evaluate_index(project, "docs")
        promote(project, "docs", 2)
        retriever = Retriever(project, "docs")
        assert retriever.version == 2
        rolled = rollback(project, "docs", reason="bees are off-topic")
        assert (rolled.from_version, rolled.to_version) == (2, 1)
        assert retriever.version == 1, "a long-lived retriever follows production"
        assert "new2.md" not in {h.doc_id for h in retriever.search("honey bees nectar", k=5)}
        promote(project, "docs", 3, force=True, reason="hotfix")
        rollback(project, "docs")
        with pytest.raises(PromotionError) as raised:
            rollback(project, "docs")
        message = str(raised.value)
        assert "serves version 1, the oldest version left on its rollback stack" in message
        assert "1 → 2, 2 → 1 (rollback), 1 → 3, 3 → 1 (rollback)" in message
        actions = [
            (h.action, h.from_version, h.to_version)
            for h in project.catalog.pointers.history(INDEX, "docs")
        ]
        assert actions == [
            ("promote", None, 1),
            ("promote", 1, 2),
            ("rollback", 2, 1),
            ("hold", 1, 1),  # a rollback holds production against automation
            ("promote", 1, 3),
            ("release", 3, 3),  # … until a person promotes
            ("rollback", 3, 1),
            ("hold", 1, 1),
        ]


def test_a_promotion_moves_the_prompt_with_the_index_and_rollback_returns_both(
    tmp_path: Path, catalog_url: str
) -> None:
    path = write_project(
        tmp_path / "p", catalog_url=catalog_url, extra_index="    prompt: answer\n"
    )
    prompts = path.parent / "prompts"
    prompts.mkdir()
    (prompts / "answer.txt").write_text("Context:\n{context}\nQ: {question}\n")
    with Project.open(path) as project:
        ragops.sync(project)
        first = promote(project, "docs", 1)
        v1_prompt = project.catalog.pointers.get(PROMPT, "answer", "production").target  # type: ignore[union-attr]
        (prompts / "answer.txt").write_text("Use the context:\n{context}\nQuestion: {question}\n")
        second = promote(project, "docs", 1, prompt="latest")
        assert first.prompt and second.prompt and second.prompt["from"] == v1_prompt
        v2_prompt = second.prompt["to"]
        assert v2_prompt != v1_prompt
        assert project.catalog.pointers.get(PROMPT, "answer", "production").target == v2_prompt  # type: ignore[union-attr]
        back = rollback(project, "docs")
        assert back.prompt == {"name": "answer", "from": v2_prompt, "to": v1_prompt}
        assert project.catalog.pointers.get(PROMPT, "answer", "production").target == v1_prompt  # type: ignore[union-attr]


def _hold_store(config: Path) -> subprocess.Popen[str]:
    """Another process with the project's embedded store open (an app holding a Retriever)."""
    code = (
        "import sys\n"
        "from ragops.project import Project\n"
        f"project = Project.open({str(config)!r})\n"
        "project.store.list_collections()\n"
        "print('holding', flush=True)\n"
        "sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
    return holder


def test_promote_and_rollback_move_nothing_when_the_store_is_busy(built: Path) -> None:
    built.write_text(built.read_text() + "    allow_first_promotion: true\n")
    with Project.open(built) as project:
        promote(project, "docs", 1)
        (built.parent / "docs" / "new.md").write_text("# Bees\n\nBees make honey.\n")
        ragops.sync(project)
        evaluate_index(project, "docs")
        promote(project, "docs", 2)
    holder = _hold_store(built)
    try:
        with Project.open(built) as project:
            with pytest.raises(StoreLockedError):
                promote(project, "docs", 1, force=True, reason="the store is busy")
            with pytest.raises(StoreLockedError):
                rollback(project, "docs")
            pointer = project.catalog.pointers.get(INDEX, "docs", "production")
            assert pointer is not None and pointer.version == 2, "the pointer did not move"
            assert len(project.catalog.pointers.history(INDEX, "docs")) == 2
    finally:
        holder.communicate("", timeout=60)


def test_an_eval_that_cannot_search_stores_nothing(built: Path) -> None:
    holder = _hold_store(built)
    try:
        with Project.open(built) as project:
            before = project.catalog.evals.of_version("docs", 1)
            with pytest.raises((StoreLockedError, EvalError)):
                evaluate_index(project, "docs", version=1)
            assert project.catalog.evals.of_version("docs", 1) == before
    finally:
        holder.communicate("", timeout=60)
