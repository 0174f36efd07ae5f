"""Eval set loading (JSONL, CSV, Parquet, SQuAD) and its error messages."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ragops.errors import EvalError
from ragops.evals.sets import EvalSample, default_sample_id, load_eval_set, load_squad


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


# --------------------------------------------------------------------------- JSONL


def test_jsonl_loads_all_fields(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "eval.jsonl",
        [
            {
                "id": "s1",
                "question": "How do I promote?\n",
                "reference_doc_ids": ["docs/promote.md"],
                "reference_chunk_ids": ["c1", 7],
                "reference_contexts": ["Promotion moves a pointer."],
                "reference_answer": "ragops promote",
                "difficulty": "easy",  # unrelated extra fields are ignored
            },
            "",  # blank lines are skipped
            {"question": "What is a generation?", "reference_doc_ids": ["docs/model.md"]},
        ],
    )
    first, second = load_eval_set(path)
    assert first == EvalSample(
        id="s1",
        question="How do I promote?",
        reference_doc_ids=("docs/promote.md",),
        reference_chunk_ids=("c1", "7"),
        reference_contexts=("Promotion moves a pointer.",),
        reference_answer="ragops promote",
    )
    assert second.id == default_sample_id("What is a generation?")
    assert second.id.startswith("q-") and len(second.id) == 14
    assert second.reference_answer is None and second.reference_chunk_ids == ()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ({"reference_doc_ids": ["a"]}, "line 2: missing 'question'"),
        ({"question": "  ", "reference_doc_ids": ["a"]}, "line 2: missing 'question'"),
        ({"question": 3, "reference_doc_ids": ["a"]}, "field 'question' must be a string"),
        (
            {"question": "q", "reference_answer": "x"},
            "line 2: sample has no references: give reference_doc_ids, "
            "reference_chunk_ids or reference_contexts",
        ),
        ({"question": "q", "reference_doc_ids": []}, "sample has no references"),
        (
            {"question": "q", "reference_doc_ids": {"a": 1}},
            "field 'reference_doc_ids' must be a list",
        ),
        (
            {"question": "q", "reference_contexts": [1]},
            "'reference_contexts' item 0 must be a string",
        ),
        ({"question": "q", "reference_doc_id": ["a"]}, "did you mean 'reference_doc_ids'"),
        ({"question": "q", "reference_doc_ids": ["a"], "id": 1.5}, "field 'id' must be a string"),
        ('{"question": "q", ', "line 2: invalid JSON"),
        ('["q"]', "line 2: expected a JSON object"),
    ],
)
def test_jsonl_errors_name_file_line_and_field(tmp_path: Path, line: object, expected: str) -> None:
    path = write_jsonl(
        tmp_path / "bad.jsonl", [{"question": "ok", "reference_doc_ids": ["a"]}, line]
    )
    with pytest.raises(EvalError) as info:
        load_eval_set(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message


def test_jsonl_keeps_unicode_line_separators_inside_strings(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    row = {"question": "a\u2028b", "reference_contexts": ["x\u2029y"]}
    path.write_text(json.dumps(row, ensure_ascii=False) + "\r\n", encoding="utf-8")
    (sample,) = load_eval_set(path)
    assert sample.question == "a\u2028b" and sample.reference_contexts == ("x\u2029y",)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "dup.jsonl",
        [
            {"question": "same?", "reference_doc_ids": ["a"]},
            {"question": "same?", "reference_doc_ids": ["b"]},
        ],
    )
    with pytest.raises(EvalError, match=r"line 2: duplicate sample id .* \(also at line 1\)"):
        load_eval_set(path)


def test_squad_file_given_as_eval_set_gets_a_hint(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "dev.json", [{"version": "1.1", "data": []}])
    with pytest.raises(EvalError, match=r"line 1: this looks like a SQuAD file.*load_squad"):
        load_eval_set(path)


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="unsupported eval set format '.txt'"):
        load_eval_set(tmp_path / "eval.txt")
    with pytest.raises(EvalError, match="not found"):
        load_eval_set(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(EvalError, match="no samples"):
        load_eval_set(tmp_path / "empty.jsonl")


# --------------------------------------------------------------------------- CSV


def test_csv_json_arrays_pipes_and_trailing_newlines(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["id", "question", "reference_doc_ids", "reference_contexts", "reference_answer"]
        )
        writer.writerow(["a", "What is MVCC?\n", '["docs/a.md", "docs/b.md"]', "", ""])
        writer.writerow(["b", "Rollback?", "docs/c.md| docs/d.md", '["x | y"]', "O(1)"])
    first, second = load_eval_set(path)
    assert first.question == "What is MVCC?"
    assert first.reference_doc_ids == ("docs/a.md", "docs/b.md")
    assert first.reference_contexts == () and first.reference_answer is None
    assert second.reference_doc_ids == ("docs/c.md", "docs/d.md")
    assert second.reference_contexts == ("x | y",)
    assert second.reference_answer == "O(1)"


def test_csv_errors_name_row_and_line(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    path.write_text('question,reference_doc_ids\nok,a.md\n"multi\nline",b.md\nno refs,\n')
    with pytest.raises(EvalError) as info:
        load_eval_set(path)
    assert f"{path}: row 3 (line 5): sample has no references" in str(info.value)

    path.write_text('question,reference_doc_ids\nq,"[""a"", ]"\n')
    with pytest.raises(EvalError, match="row 1 .*'reference_doc_ids' looks like a JSON array"):
        load_eval_set(path)

    path.write_text("query,reference_doc_ids\nq,a\n")
    with pytest.raises(EvalError, match="no 'question' column"):
        load_eval_set(path)


# --------------------------------------------------------------------------- Parquet


def test_parquet_list_and_string_columns(tmp_path: Path) -> None:
    path = tmp_path / "eval.parquet"
    table = pa.table(
        {
            "question": ["Where are chunks stored?\n", "Who promotes?"],
            "reference_doc_ids": [["docs/store.md"], []],
            "reference_chunk_ids": [None, ["c-9"]],
            "reference_contexts": ['["Parquet per generation"]', None],
        }
    )
    pq.write_table(table, path)
    first, second = load_eval_set(path)
    assert first.question == "Where are chunks stored?"
    assert first.reference_doc_ids == ("docs/store.md",)
    assert first.reference_contexts == ("Parquet per generation",)
    assert second.reference_chunk_ids == ("c-9",) and second.reference_doc_ids == ()


def test_parquet_errors_name_row(tmp_path: Path) -> None:
    path = tmp_path / "eval.parquet"
    pq.write_table(pa.table({"question": ["ok", None], "reference_doc_ids": [["a"], ["b"]]}), path)
    with pytest.raises(EvalError, match=r"row 2 \(index 1\): missing 'question'"):
        load_eval_set(path)
    path.write_bytes(b"not parquet")
    with pytest.raises(EvalError, match="cannot read the Parquet file"):
        load_eval_set(path)


# --------------------------------------------------------------------------- SQuAD


def squad_file(tmp_path: Path) -> Path:
    data = {
        "version": "1.1",
        "data": [
            {
                "title": "Alpha",
                "paragraphs": [
                    {
                        "context": "Alpha paragraph zero.",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "First? \n",
                                "answers": [
                                    {"text": "zero", "answer_start": 16},
                                    {"text": "paragraph zero", "answer_start": 6},
                                ],
                            },
                            {"id": "q2", "question": "Second?", "answers": []},
                        ],
                    },
                    {
                        "context": "Alpha paragraph one.",
                        "qas": [
                            {
                                "id": "q3",
                                "question": "Third?",
                                "answers": [{"text": "one", "answer_start": 16}],
                            }
                        ],
                    },
                ],
            },
            {
                "title": "Beta",
                "paragraphs": [
                    {
                        "context": "Beta text.",
                        "qas": [
                            {
                                "id": f"b{i}",
                                "question": f"Beta {i}?",
                                "answers": [{"text": "Beta", "answer_start": 0}],
                            }
                            for i in range(5)
                        ],
                    }
                ],
            },
        ],
    }
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(data))
    return path


def test_load_squad(tmp_path: Path) -> None:
    paragraphs, samples = load_squad(squad_file(tmp_path))
    assert paragraphs == [
        ("Alpha#0", "Alpha paragraph zero."),
        ("Alpha#1", "Alpha paragraph one."),
        ("Beta#0", "Beta text."),
    ]
    assert [s.id for s in samples] == ["q1", "q2", "q3", "b0", "b1", "b2", "b3", "b4"]
    q1 = samples[0]
    assert q1 == EvalSample(
        id="q1", question="First?", reference_doc_ids=("Alpha#0",), reference_answer="zero"
    )
    assert samples[1].reference_answer is None
    assert samples[2].reference_doc_ids == ("Alpha#1",)

    _, with_text = load_squad(squad_file(tmp_path), include_contexts=True)
    assert with_text[0].reference_contexts == ("Alpha paragraph zero.",)


def test_load_squad_limit_is_deterministic(tmp_path: Path) -> None:
    path = squad_file(tmp_path)
    paragraphs, picked = load_squad(path, limit=3, seed=7)
    assert len(paragraphs) == 3  # the corpus keeps every paragraph
    assert len(picked) == 3
    assert [s.id for s in picked] == [s.id for s in load_squad(path, limit=3, seed=7)[1]]
    order = [s.id for s in load_squad(path)[1]]
    assert [s.id for s in picked] == sorted((s.id for s in picked), key=order.index)
    seeds = {tuple(s.id for s in load_squad(path, limit=3, seed=seed)[1]) for seed in range(10)}
    assert len(seeds) > 1
    assert len(load_squad(path, limit=100)[1]) == 8


def test_load_squad_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"data": [{"title": "T", "paragraphs": [{"qas": []}]}]}))
    with pytest.raises(EvalError, match=r"data\[0\]\.paragraphs\[0\]: missing 'context'"):
        load_squad(path)
    path.write_text("[]")
    with pytest.raises(EvalError, match="missing 'data'"):
        load_squad(path)
    with pytest.raises(EvalError, match="limit must be a positive integer"):
        load_squad(path, limit=0)
    with pytest.raises(EvalError, match="not found"):
        load_squad(tmp_path / "nope.json")


@pytest.mark.shared
def test_load_real_squad_dev() -> None:
    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "squad-v1.1" / "dev-v1.1.json"
    if not path.is_file():
        pytest.skip(f"{path} not available")
    paragraphs, samples = load_squad(path, limit=1000, seed=0)
    assert len(paragraphs) == 2067
    assert len(samples) == 1000 and len({s.id for s in samples}) == 1000
    docs = dict(paragraphs)
    assert all(s.reference_doc_ids[0] in docs for s in samples)
    assert all(s.question == s.question.strip() and s.reference_answer for s in samples)
