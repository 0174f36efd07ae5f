"""Retrieval modes end to end: BM25 vectors built beside the dense ones at sync, searched
densely, sparsely or fused, in the library, the CLI and over REST; the sparse settings as part
of the spec (a change builds a new generation while the old one keeps serving); chunks
embedded with their context; evals scoring several modes, each its own evidence, and gates
naming a mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ragops
from ragops import Retriever
from ragops.project import Project
from tests.conftest import write_project
from tests.serve.conftest import make_keys, running_server
from tests.test_cli import as_json, cli

#: Only pasta.md holds the fault code ZQX-4471, among words about something else entirely;
#: errors.md and failures.md hold codes that look alike (what a dense model sees) and are
#: about error codes (what it relates the query to).
DOCS = {
    "pasta.md": "# Pasta\n\nBoil the pasta in salted water; fault code ZQX-4471 was printed "
    "on the bag next to the recipe for tomato sauce.\n",
    "errors.md": "# Error messages\n\nEvery error message names the failing step and an "
    "error code such as ZQX-1001 or ZQX-2002.\n",
    "failures.md": "# Failures\n\nWhen a sync fails, its fault code (ZQX-7731, ZQX-4417) and "
    "the failing file are written to the log.\n",
    "codes.md": "# Status codes\n\nThe server answers status code 404 for an unknown index "
    "and 409 while a sync holds it.\n",
    "lifecycle.md": "# Roll back\n\nTo roll back production to the previous index version, "
    "run ragops rollback docs; the pointer moves back.\n",
}
IDENTIFIER = "ZQX-4471"


def _project(root: Path, extra_index: str = "") -> Path:
    config = write_project(root, docs=DOCS, public=True, extra_index=extra_index)
    (root / "evals" / "questions.jsonl").write_text(
        "".join(
            json.dumps({"id": str(n), "question": q, "reference_doc_ids": [doc]}) + "\n"
            for n, (q, doc) in enumerate(
                [
                    (IDENTIFIER, "pasta.md"),
                    ("how do I roll back production", "lifecycle.md"),
                    ("which status code means the index is unknown", "codes.md"),
                ]
            )
        ),
        encoding="utf-8",
    )
    return config


@pytest.fixture
def built(tmp_path: Path) -> Path:
    config = _project(tmp_path / "project")
    with Project.open(config) as project:
        ragops.sync(project)
        ragops.promote(project, "docs", 1)
    return config


def test_a_rare_identifier_is_found_by_sparse_and_hybrid_but_not_dense(built: Path) -> None:
    with Project.open(built) as project:
        retriever = Retriever(project, "docs")
        dense = retriever.search(IDENTIFIER, k=2, mode="dense")
        assert "pasta.md" not in [h.doc_id for h in dense]  # the look-alike codes win
        sparse = retriever.search(IDENTIFIER, k=5, mode="sparse")
        assert sparse[0].doc_id == "pasta.md"  # the one document with the term 4471
        assert sparse[0].sparse_score is not None and sparse[0].dense_score is None
        hybrid = retriever.search(IDENTIFIER, k=2)  # the default mode: hybrid
        assert "pasta.md" in [h.doc_id for h in hybrid]
        found = next(h for h in hybrid if h.doc_id == "pasta.md")
        assert found.mode == "hybrid" and found.rank in (1, 2)
        assert found.dense_score is not None
        assert found.sparse_score == pytest.approx(sparse[0].score, rel=1e-5)
        grouped = retriever.search(IDENTIFIER, k=3, group_by="doc_id")
        assert len({h.doc_id for h in grouped}) == 3 and all(
            h.dense_score is not None for h in grouped
        )
        assert next(h for h in grouped if h.doc_id == "pasta.md").sparse_score == pytest.approx(
            found.sparse_score, rel=1e-5
        )
        with pytest.raises(ValueError, match="mode must be one of"):
            retriever.search(IDENTIFIER, mode="bm42")

    found = as_json(cli("search", "docs", IDENTIFIER, "-k", "1", "--mode", "sparse", "--json",
                        cwd=built.parent))  # fmt: skip
    assert [(h["doc_id"], h["mode"]) for h in found["hits"]] == [("pasta.md", "sparse")]


def test_modes_over_rest(built: Path) -> None:
    with Project.open(built) as project:
        keys, key_ids = make_keys(project, {"read": ["group:any"]})
    with running_server(built, keys, key_ids) as server:
        with Retriever.connect(server.url, "docs", api_key=keys["read"]) as remote:
            [hit] = remote.search(IDENTIFIER, k=1, mode="sparse")
            assert (hit.doc_id, hit.mode, hit.dense_score) == ("pasta.md", "sparse", None)
            [hybrid] = remote.search_many([IDENTIFIER], k=2, mode="hybrid")
            assert "pasta.md" in [h.doc_id for h in hybrid]
            assert all(h.mode == "hybrid" and h.dense_score is not None for h in hybrid)
        with server.client() as client:
            answer = client.post("/v1/indexes/docs/search", json={"query": "x", "mode": "bm42"})
        assert answer.status_code == 422 and "mode" in answer.text


def test_a_sparse_settings_change_builds_a_new_generation_while_the_old_one_serves(
    tmp_path: Path,
) -> None:
    root = tmp_path / "project"
    config = _project(
        root, extra_index="    sparse: {enabled: false}\n    retrieval: {mode: dense}\n"
    )
    with Project.open(config) as project:
        [first] = ragops.sync(project)
        ragops.promote(project, "docs", 1)
        assert (
            "sparse"
            not in project.catalog.generations.get(
                project.catalog.versions.get("docs", 1).generation_id
            ).spec
        )
    text = config.read_text(encoding="utf-8").replace(
        "    sparse: {enabled: false}\n    retrieval: {mode: dense}\n", "    sparse: {k: 1.5}\n"
    )
    config.write_text(text, encoding="utf-8")
    with Project.open(config) as project:
        [second] = ragops.sync(project)
        assert second.generation != first.generation and second.version == 2
        stats = project.catalog.versions.get("docs", 2).stats
        assert stats["sparse_avg_len"] > 1  # measured on the generation's chunks, kept with it
        retriever = Retriever(project, "docs")  # production: version 1, dense only
        assert retriever.search(IDENTIFIER, k=3)[0].mode == "dense"  # serves, densely
        with pytest.raises(ValueError, match="no BM25 vectors"):
            retriever.search(IDENTIFIER, mode="sparse")
        candidate = Retriever(project, "docs", version=2)
        assert candidate.search(IDENTIFIER, k=1, mode="sparse")[0].doc_id == "pasta.md"
        [third] = ragops.sync(project)  # nothing changed: the same generation, no new version
        assert third.generation == second.generation and not third.created_version


def test_chunks_are_embedded_with_their_title_and_headings(tmp_path: Path) -> None:
    """The same text under two headings gets two vectors (its context differs); the stored
    text is the chunk's own; turning context off is a new generation."""
    docs = {
        "a.md": "# Kubernetes\n\n## Install\n\nRun the installer and wait.\n",
        "b.md": "# Windows desktop\n\n## Install\n\nRun the installer and wait.\n",
    }
    config = write_project(tmp_path / "project", docs=docs, public=True, chunker="markdown")
    with Project.open(config) as project:
        [built] = ragops.sync(project)
        points = list(project.store.scroll(built.collection, built.version, with_vectors=True))
        assert len(points) == 2
        texts = {p.payload["doc_id"]: p.payload["text"] for p in points}
        vectors = {p.payload["doc_id"]: p.vector for p in points}
        assert "Kubernetes" not in texts["b.md"] and "Windows" not in texts["a.md"]
        assert vectors["a.md"] != vectors["b.md"]
        hits = Retriever(project, "docs", version=1).search("install on kubernetes", k=1)
        assert hits[0].doc_id == "a.md"
    config.write_text(
        config.read_text(encoding="utf-8") + "    context: {title: false, headings: false}\n",
        encoding="utf-8",
    )
    with Project.open(config) as project:
        [plain] = ragops.sync(project)
        assert plain.generation != built.generation


def test_eval_modes_are_stored_as_separate_evidence_and_gates_name_a_mode(built: Path) -> None:
    result = as_json(cli("eval", "docs", "--modes", "dense,sparse,hybrid", "--json",
                         cwd=built.parent))  # fmt: skip
    runs = {run["retrieval"]: run for run in result["evals"]}
    assert set(runs) == {"dense/doc_id", "sparse/doc_id", "hybrid-dbsf/doc_id"}
    # the identifier question: the modes with BM25 rank its document higher
    assert (
        runs["sparse/doc_id"]["metrics"]["recall@1"] > runs["dense/doc_id"]["metrics"]["recall@1"]
    )
    assert runs["hybrid-dbsf/doc_id"]["metrics"]["mrr"] > runs["dense/doc_id"]["metrics"]["mrr"]
    bad = cli("eval", "docs", "--modes", "dense,bm42", cwd=built.parent)
    assert bad.returncode == 2 and "bm42" in bad.stderr + bad.stdout

    text = built.read_text(encoding="utf-8").replace(
        "      - {name: questions, path: evals/questions.jsonl, k: 5}\n",
        "      - {name: questions, path: evals/questions.jsonl, k: 5}\n"
        "    gates:\n"
        '      - "sparse recall@1 >= 0.5"\n'
        '      - "dense recall@5 >= 0.0"\n',
    )
    built.write_text(text, encoding="utf-8")
    with Project.open(built) as project:
        from ragops.environments.gates import check_gates

        results = {r.gate: r for r in check_gates(project, "docs", 1, None)}
        assert results["sparse recall@1 >= 0.5"].passed
        assert results["sparse recall@1 >= 0.5"].value == pytest.approx(
            runs["sparse/doc_id"]["metrics"]["recall@1"]
        )
        assert results["dense recall@5 >= 0"].passed
