"""The query log: every search and ask a person or an app makes is one Parquet row (who,
what, which version, what came back, how long, tokens and cost); evals and the sample
search of `ragops run` are not traffic and are not logged."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pyarrow.dataset as ds

import ragops
from ragops import Retriever
from ragops.evals.evaluate import evaluate_index
from ragops.llm.answers import ask
from ragops.project import Project
from ragops.queries import read_queries
from tests.conftest import write_project
from tests.openai_stub import OpenAIStub, openai_stub  # noqa: F401 (fixture)
from tests.test_cli import as_json, cli


def test_searches_and_asks_are_logged_and_evals_are_not(
    tmp_path: Path,
    openai_stub: OpenAIStub,  # noqa: F811
) -> None:
    config = write_project(tmp_path / "p", public=True)
    config.write_text(
        config.read_text() + f"llm: {{base_url: '{openai_stub.base_url}', model: m, "
        "price_per_1k_input_tokens: 1.0, price_per_1k_output_tokens: 2.0}\n"
    )
    cwd = config.parent
    assert cli("run", cwd=cwd).returncode == 0  # sync, eval, promote, sample search
    folder = cwd / ".ragops" / "queries"
    assert read_queries(folder) == [], "neither the eval nor the sample search is traffic"

    found = as_json(cli("search", "docs", "tomatoes", "-k", "2", "--as", "group:eng",
                        "--json", cwd=cwd))  # fmt: skip
    with Project.open(config) as project:
        hits = Retriever(project, "docs").search("When is the Moon full?", k=3,
                                                 filters={"doc_id": "astronomy.md"})  # fmt: skip
        answer = ask(project, "docs", "How much sun do tomatoes need?", k=2)
        evaluate_index(project, "docs")  # not logged either
        Retriever(project, "docs").search("moon", k=2, mode="sparse", group_by="doc_id")

    rows = read_queries(folder, index="docs")
    assert [(r["kind"], r["face"]) for r in rows] == [
        ("search", "cli"),
        ("search", "library"),
        ("ask", "library"),
        ("search", "library"),
    ]
    cli_row, library_row, ask_row, _ = rows
    assert [r["retrieval"] for r in rows] == [
        "hybrid-dbsf", "hybrid-dbsf", "hybrid-dbsf", "sparse/doc_id",
    ], "how each search ranked, as eval evidence names it"  # fmt: skip
    assert cli_row["query"] == "tomatoes" and cli_row["principal"] == "group:eng"
    assert cli_row["doc_ids"] == [h["doc_id"] for h in found["hits"]]
    assert cli_row["version"] == 1 and cli_row["env"] == "production" and cli_row["k"] == 2
    assert cli_row["embed_ms"] > 0 and cli_row["search_ms"] > 0
    assert library_row["principal"].startswith("local:")
    assert json.loads(library_row["filters_json"]) == {"doc_id": "astronomy.md"}
    assert library_row["chunk_ids"] == [h.chunk_id for h in hits]
    assert abs(library_row["scores"][0] - hits[0].score) < 1e-5  # stored as float32
    assert (ask_row["input_tokens"], ask_row["output_tokens"]) == (11, 7)
    assert abs(ask_row["cost"] - answer.cost) < 1e-12 and ask_row["generate_ms"] > 0
    assert ask_row["doc_ids"] == [h.doc_id for h in answer.contexts]

    # Any Parquet reader takes the log as a dataset partitioned by day.
    table = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 4 and "day" in table.column_names

    listed = as_json(cli("queries", "docs", "--since", "1h", "--json", cwd=cwd))["queries"]
    assert [q["query"] for q in listed] == [
        "tomatoes", "When is the Moon full?", "How much sun do tomatoes need?", "moon",
    ]  # fmt: skip
    table_view = cli("queries", "docs", cwd=cwd)
    assert "tomatoes" in table_view.stdout and "group:eng" in table_view.stdout
    bad = cli("queries", "docs", "--since", "soon", cwd=cwd)
    assert bad.returncode == 2 and "write a number and s, m, h or d" in bad.stderr
    assert read_queries(folder, since=timedelta(seconds=0)) == []


def test_query_text_can_be_kept_as_a_hash_or_not_at_all(tmp_path: Path) -> None:
    for mode, expected in (("hash", hashlib.sha256(b"secret plans").hexdigest()), ("none", None)):
        config = write_project(tmp_path / mode, public=True)
        config.write_text(config.read_text() + f"queries: {{text: {mode}}}\n")
        with Project.open(config) as project:
            ragops.sync(project)
            Retriever(project, "docs", version=1).search("secret plans")
        [row] = read_queries(config.parent / ".ragops" / "queries")
        assert row["query"] is None and row["query_sha256"] == expected
        files = list((config.parent / ".ragops" / "queries").rglob("*.parquet"))
        assert b"secret plans" not in b"".join(f.read_bytes() for f in files)

    config = write_project(tmp_path / "off", public=True)
    config.write_text(config.read_text() + "queries: {log: false}\n")
    with Project.open(config) as project:
        ragops.sync(project)
        Retriever(project, "docs", version=1).search("anything")
    assert not (config.parent / ".ragops" / "queries").exists()
