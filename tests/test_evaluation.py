"""Evals of index versions: stored per version with per-question Parquet, and compared."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import ragops
from ragops.cli import app
from ragops.evals.evaluate import evaluate_index
from ragops.evals.results import compare_versions, read_results
from ragops.project import Project
from tests.conftest import write_project


def test_eval_results_are_stored_and_versions_compare(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p")
    docs = path.parent / "docs"
    with Project.open(path) as project:
        ragops.sync(project)
        [first] = evaluate_index(project, "docs")
        assert first.report.metrics["recall@5"] == 1.0
        assert first.report.skipped["faithfulness"] == "no judge LLM configured"
        row = project.catalog.evals.of_version("docs", 1)[-1].to_dict()
        per_question = read_results(row["results_path"])
        assert len(per_question) == 4 and {"recall@5", "ndcg@10", "question"} <= set(
            per_question[0]
        )

        (docs / "gardening.md").unlink()
        ragops.sync(project)
        evaluate_index(project, "docs")
        comparison = compare_versions(project, "docs", 1, 2)
        assert comparison.metrics["recall@1"]["delta"] < 0
        assert comparison.moved[0]["question"] == "How much sun do tomato plants need?"
        assert comparison.moved[0]["delta"] < 0

    result = CliRunner().invoke(
        app, ["--config", str(path), "eval", "compare", "docs", "1", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["a"] == 1 and document["b"] == 2 and document["moved"]
