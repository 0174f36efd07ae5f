"""Evals of index versions: stored per version with per-question Parquet, read back question by
question (``eval show``) and compared (``eval compare``), with clear errors for what does not
exist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ragops
from ragops.errors import EvalError, IndexNotFoundError
from ragops.evals.compare import compare_versions
from ragops.evals.evaluate import evaluate_index
from ragops.evals.results import eval_details, read_results
from ragops.project import Project
from tests.conftest import write_project
from tests.test_cli import as_json, cli

SUN = "How much sun do tomato plants need?"
MOON = [{"question": "Why does the Moon have phases?", "reference_doc_ids": ["astronomy.md"]}]


@pytest.fixture
def two_versions(tmp_path: Path) -> Path:
    """Version 1 (4 documents) and version 2 (gardening.md deleted), both evaluated on two eval
    sets: ``questions`` (k 5) and ``moon`` (k 3)."""
    path = write_project(tmp_path / "p")
    (path.parent / "evals" / "moon.jsonl").write_text("".join(json.dumps(r) + "\n" for r in MOON))
    path.write_text(
        path.read_text().replace(
            "      - {name: questions, path: evals/questions.jsonl, k: 5}\n",
            "      - {name: questions, path: evals/questions.jsonl, k: 5}\n"
            "      - {name: moon, path: evals/moon.jsonl, k: 3}\n",
        )
    )
    with Project.open(path) as project:
        ragops.sync(project)
        runs = evaluate_index(project, "docs")
        assert [(r.dataset, r.to_dict()["k"]) for r in runs] == [("questions", 5), ("moon", 3)]
        assert runs[0].report.metrics["recall@5"] == 1.0
        assert runs[0].report.skipped["faithfulness"] == "no judge LLM configured"
        (path.parent / "docs" / "gardening.md").unlink()
        ragops.sync(project)
        evaluate_index(project, "docs")
    return path


def test_per_question_results_are_stored_and_shown(two_versions: Path) -> None:
    with Project.open(two_versions) as project:
        row = project.catalog.evals.of_version("docs", 1)[0].to_dict()
        per_question = read_results(row["results_path"])
        assert len(per_question) == 4
        assert {"recall@5", "ndcg@10", "question", "hit_ranks", "retrieved_docs"} <= set(
            per_question[0]
        )
        [questions] = eval_details(project, "docs", dataset="questions")  # newest: version 2
        assert (questions.record.version, questions.questions, questions.record.k) == (2, 4, 5)
        by_question = {r["question"]: r for r in questions.rows}
        assert by_question[SUN]["hit_ranks"] == [] and by_question[SUN]["references"] == [
            "doc:gardening.md"
        ]
        assert "gardening.md" not in by_question[SUN]["retrieved_docs"]
        tides = by_question["What causes the tides?"]
        assert tides["hit_ranks"] == [1] and tides["retrieved_docs"][0] == "astronomy.md"
        assert tides["recall@5"] == 1.0 and tides["error"] is None
        [failing] = eval_details(project, "docs", version=2, dataset="questions", failed=True)
        assert [r["question"] for r in failing.rows] == [SUN]
        [earlier] = eval_details(project, "docs", version=1, dataset="questions", failed=True)
        assert earlier.rows == [] and earlier.questions == 4
        with pytest.raises(IndexNotFoundError, match=r"no version 9 \(versions: 1–2\)"):
            eval_details(project, "docs", version=9)
        with pytest.raises(EvalError, match="unknown eval set 'moom' .did you mean 'moon'"):
            eval_details(project, "docs", dataset="moom")

    cwd = two_versions.parent
    shown = as_json(cli("eval", "show", "docs", "--failed", "--json", cwd=cwd))
    assert shown["version"] == 2
    assert {e["dataset"]: [r["question"] for r in e["rows"]] for e in shown["evals"]} == {
        "questions": [SUN],
        "moon": [],
    }
    table = cli("eval", "show", "docs", "--version", "2", "--dataset", "questions", cwd=cwd)
    assert table.returncode == 0, table.stderr
    [sun_line] = [line for line in table.stdout.splitlines() if "tomato" in line]
    assert "none" in sun_line and "0.000" in sun_line


def test_compare_reads_every_eval_set_and_names_what_does_not_exist(two_versions: Path) -> None:
    with Project.open(two_versions) as project:
        comparison = compare_versions(project, "docs", 1, 2)
        assert [s.dataset for s in comparison.sets] == ["questions", "moon"]
        questions = comparison.sets[0]
        assert questions.metrics["recall@1"]["delta"] < 0
        assert questions.moved[0]["question"] == SUN and questions.moved[0]["delta"] < 0
        assert comparison.warnings == [], "the same eval set content on both versions"
        only = compare_versions(project, "docs", 1, 2, dataset="moon", metric="mrr")
        assert [s.dataset for s in only.sets] == ["moon"] and only.sets[0].focus == "mrr"

    cwd = two_versions.parent
    document = as_json(cli("eval", "compare", "docs", "1", "2", "--json", cwd=cwd))
    assert (document["a"], document["b"]) == (1, 2)
    assert [s["dataset"] for s in document["sets"]] == ["questions", "moon"]
    assert document["sets"][0]["moved"][0]["question"] == SUN

    for args, message in [
        (("1", "7"), "index 'docs' has no version 7 (versions: 1–2)"),
        (("1", "2", "--dataset", "nope"), "unknown eval set 'nope' for index 'docs'"),
        (("1", "2", "--metric", "recal@5"), "unknown metric 'recal@5' (did you mean 'recall@5'?)"),
    ]:
        refused = cli("eval", "compare", "docs", *args, cwd=cwd)
        assert refused.returncode == 1, (args, refused.stdout)
        assert message in refused.stderr, refused.stderr

    # The eval set gains a question and version 2 is evaluated again: deltas come with a
    # warning that the questions changed, not only the index.
    questions_file = cwd / "evals" / "questions.jsonl"
    extra = {"question": "What does rollback move?", "reference_doc_ids": ["rollback.md"]}
    questions_file.write_text(questions_file.read_text() + json.dumps(extra) + "\n")
    assert cli("eval", "docs", "--version", "2", "--dataset", "questions", cwd=cwd).returncode == 0
    edited = cli("eval", "compare", "docs", "1", "2", "--json", cwd=cwd)
    assert edited.returncode == 0, edited.stderr
    [warning] = json.loads(edited.stdout)["warnings"]
    assert "eval set 'questions' changed between the two evals" in warning
    assert "ragops eval docs --version 1" in warning
    assert "warning: eval set 'questions' changed" in edited.stderr
