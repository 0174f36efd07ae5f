"""The pipeline every face runs: sync → evaluate → gate → release, and the configuration keys
that steer it (auto_promote, parsing, the embedding dtype)."""

from __future__ import annotations

from pathlib import Path

import pytest

import ragops
from ragops import pipeline
from ragops.catalog import INDEX
from ragops.errors import PromotionError
from ragops.project import Project
from tests.conftest import write_project


def _pointer(project: Project, env: str) -> int | None:
    pointer = project.catalog.pointers.get(INDEX, "docs", env)
    return pointer.version if pointer is not None else None


def test_each_step_takes_exactly_what_the_step_before_produced(
    tmp_path: Path, catalog_url: str
) -> None:
    path = write_project(tmp_path / "p", catalog_url=catalog_url, gates=["recall@5 >= 0.5"])
    with Project.open(path) as project:
        staged = pipeline.stage(project, "docs")
        assert staged.counts()["parsed"] == 4
        built = pipeline.build(project, "docs", staged)
        assert (built.version, built.created) == (1, True)
        assert built.sync is not None
        assert built.sync.timings["parse"] == pytest.approx(staged.seconds, abs=1e-3)
        (path.parent / "docs" / "bees.md").write_text("# Bees\n\nBees make honey.\n")
        newer = pipeline.build(project, "docs")  # version 2 appears before the release
        candidate = pipeline.evaluate(project, built)
        assert candidate.version == 1 and [r.version for r in candidate.runs] == [1]
        verdict = pipeline.gate(project, candidate)
        assert verdict.passed and [g.eval_set for g in verdict.gates] == ["questions"]
        promotion = pipeline.release(project, verdict)
        assert promotion.to_version == 1 and newer.version == 2
        assert _pointer(project, "production") == 1, "what was evaluated, not the newest"
        again = pipeline.evaluate(project, built)
        assert again.runs == (), "stored evidence of the same eval set content is reused"


def test_a_never_evaluated_version_is_refused_by_release(tmp_path: Path, catalog_url: str) -> None:
    path = write_project(tmp_path / "p", catalog_url=catalog_url, gates=["recall@5 >= 0.5"])
    with Project.open(path) as project:
        built = pipeline.build(project, "docs")
        assert built.version is not None
        unevaluated = pipeline.Candidate("docs", built.version)
        with pytest.raises(PromotionError, match="no eval of version 1"):
            pipeline.release(project, pipeline.gate(project, unevaluated))
        assert _pointer(project, "production") is None


def test_auto_promote_decides_where_run_promotes(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p", extra_index="    auto_promote: [staging]\n")
    with Project.open(path) as project:
        summary = ragops.run(project)
        assert (_pointer(project, "staging"), _pointer(project, "production")) == (1, None)
        assert [p.env for p in summary.indexes[0].promotions] == ["staging"]
    path.write_text(path.read_text().replace("auto_promote: [staging]", "auto_promote: []"))
    (path.parent / "docs" / "bees.md").write_text("# Bees\n\nBees make honey.\n")
    with Project.open(path) as project:
        summary = ragops.run(project)
        [item] = summary.indexes
        assert item.sync.version == 2 and item.promotions == []
        assert "auto_promote is empty" in (item.note or "")
        assert item.candidate is not None and item.candidate.runs, "evaluated all the same"
        assert _pointer(project, "staging") == 1


def test_parsing_settings_apply_and_the_size_limit_names_its_key(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p")
    path.write_text(path.read_text() + "parsing:\n  max_file_mb: 0.0001\n")
    with Project.open(path) as project:
        [result] = ragops.sync(project)
    reasons = {q["doc_id"]: q["reason"] for q in result.quarantined}
    assert len(reasons) == 4
    assert all("raise parsing.max_file_mb in ragops.yaml" in r for r in reasons.values())


def test_the_pdf_strategy_is_part_of_the_spec(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p")
    with Project.open(path) as project:
        fast = project.index_spec("docs").fingerprint
    path.write_text(path.read_text() + "parsing:\n  pdf_strategy: auto\n")
    with Project.open(path) as project:
        assert project.index_spec("docs").fingerprint != fast


def test_bfloat16_and_float32_vectors_never_share_a_generation_or_a_cache(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p")
    path.write_text(path.read_text() + "embedding:\n  dtype: float32\n")
    with Project.open(path) as project:
        [fp32] = ragops.sync(project)
    path.write_text(path.read_text().replace("dtype: float32", "dtype: bfloat16"))
    with Project.open(path) as project:
        [bf16] = ragops.sync(project)
        assert bf16.generation != fp32.generation
        assert bf16.embedded == bf16.points_written > 0 and bf16.reused == 0
        dtypes = {
            g.spec["embedding"]["dtype"] for g in project.catalog.generations.of_index("docs")
        }
        assert dtypes == {"float32", "bfloat16"}
