"""Eval sets: questions with the references a retriever should find.

An eval set is a file of samples, one per JSONL line / CSV row / Parquet row, with columns:

``question`` (required)
    the query sent to the retriever.
``reference_doc_ids`` / ``reference_chunk_ids`` / ``reference_contexts``
    what counts as a correct retrieval (at least one of the three must be non-empty).
``reference_answer`` (optional)
    the expected answer, for generation evals.
``id`` (optional)
    a stable sample id; defaults to ``q-`` + the first 12 hex digits of sha1(question).

In JSONL and Parquet the three reference fields are lists of strings. In CSV (and in string
Parquet columns) a list is written either as a JSON array (``["a.md", "b.md"]``) or as values
separated by ``|`` (``a.md|b.md``); use the JSON form when a value itself contains ``|``.

:func:`load_squad` turns a SQuAD v1.1 file into a corpus plus an eval set.
"""

from __future__ import annotations

import csv
import difflib
import functools
import hashlib
import json
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragops.errors import EvalError

if TYPE_CHECKING:  # pragma: no cover
    from ragops.config import EvalSetConfig

__all__ = ["EvalSample", "eval_group_by", "eval_set_sha256", "load_eval_set", "load_squad"]

_LIST_FIELDS = ("reference_doc_ids", "reference_chunk_ids", "reference_contexts")
_KNOWN_FIELDS = ("id", "question", "reference_answer", *_LIST_FIELDS)
_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True)
class EvalSample:
    """One eval question and the references that define a correct retrieval."""

    id: str
    question: str
    reference_doc_ids: tuple[str, ...] = ()
    reference_chunk_ids: tuple[str, ...] = ()
    reference_contexts: tuple[str, ...] = ()
    reference_answer: str | None = None

    @property
    def has_id_references(self) -> bool:
        """True when the sample names reference documents or chunks."""
        return bool(self.reference_doc_ids or self.reference_chunk_ids)


@functools.lru_cache(maxsize=256)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def eval_set_sha256(path: str | Path) -> str:
    """sha256 of an eval set file's content: the identity of the evidence it gives (an edited
    eval set is another eval set)."""
    stat = Path(path).stat()
    return _file_sha256(str(path), stat.st_size, stat.st_mtime_ns)


def default_sample_id(question: str) -> str:
    """The id given to a sample that has none: ``q-`` + 12 hex digits of sha1(question)."""
    return "q-" + hashlib.sha1(question.encode("utf-8")).hexdigest()[:12]


# --------------------------------------------------------------------------- loading


def load_eval_set(path: str | Path) -> list[EvalSample]:
    """Load an eval set from a ``.jsonl``, ``.csv`` or ``.parquet`` file.

    Raises :class:`~ragops.errors.EvalError` naming the file, the line or row, the field and
    the fix when the file is missing, unreadable, or a sample is invalid (no question, no
    references, wrong type, duplicate id). Surrounding whitespace (a trailing newline in a
    spreadsheet cell, say) is stripped from every string.
    """
    path = Path(path)
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise EvalError(
            f"{path}: unsupported eval set format {path.suffix or '(no suffix)'!r}: "
            "use a .jsonl, .csv or .parquet file"
        )
    if not path.is_file():
        raise EvalError(f"{path}: eval set not found: check the path")
    rows = {"jsonl": _jsonl_rows, "csv": _csv_rows, "parquet": _parquet_rows}[fmt](path)
    samples: list[EvalSample] = []
    where_by_id: dict[str, str] = {}
    for where, row in rows:
        sample = _sample_from_row(row, f"{path}: {where}")
        if sample.id in where_by_id:
            raise EvalError(
                f"{path}: {where}: duplicate sample id {sample.id!r} (also at "
                f"{where_by_id[sample.id]}): give each sample a unique 'id'"
                + (
                    ""
                    if "id" in row and row["id"] not in (None, "")
                    else " (ids default to a hash of the question, so this question is repeated)"
                )
            )
        where_by_id[sample.id] = where
        samples.append(sample)
    if not samples:
        raise EvalError(f"{path}: the eval set has no samples: add at least one question")
    return samples


def _jsonl_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        # split on "\n" only: str.splitlines() would also break at U+2028 inside JSON strings
        lines = path.read_text(encoding="utf-8-sig").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"{path}: cannot read the eval set ({exc}): save it as UTF-8") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(
                f"{path}: line {number}: invalid JSON ({exc.msg} at column {exc.colno}): "
                "each line must be one JSON object (JSONL, not pretty-printed JSON), e.g. "
                '{"question": "...", "reference_doc_ids": ["a.md"]}'
            ) from exc
        if isinstance(obj, dict) and "data" in obj and "question" not in obj:
            raise EvalError(
                f"{path}: line {number}: this looks like a SQuAD file, not an eval set: "
                "load it with ragops.evals.load_squad()"
            )
        if not isinstance(obj, dict):
            raise EvalError(
                f"{path}: line {number}: expected a JSON object, got {type(obj).__name__}: "
                'write one object per line, e.g. {"question": "...", "reference_doc_ids": [...]}'
            )
        yield f"line {number}", obj


def _csv_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise EvalError(f"{path}: cannot read the eval set ({exc})") from exc
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = [h.strip() for h in reader.fieldnames or []]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise EvalError(f"{path}: cannot read the CSV header ({exc})") from exc
        if "question" not in header:
            raise EvalError(
                f"{path}: the CSV header has no 'question' column (columns: {header}): "
                "add a header row with 'question' and at least one of " + ", ".join(_LIST_FIELDS)
            )
        reader.fieldnames = header
        try:
            for number, record in enumerate(reader, start=1):
                extra = record.pop(None, None)  # type: ignore[call-overload]
                if extra:
                    raise EvalError(
                        f"{path}: row {number} (line {reader.line_num}): {len(extra)} more "
                        f"cell(s) than header columns: quote cells that contain commas"
                    )
                yield f"row {number} (line {reader.line_num})", dict(record)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise EvalError(f"{path}: line {reader.line_num}: invalid CSV ({exc})") from exc


def _parquet_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise EvalError(f"{path}: cannot read the Parquet file ({exc})") from exc
    if "question" not in table.column_names:
        raise EvalError(
            f"{path}: the Parquet file has no 'question' column (columns: "
            f"{table.column_names}): add one"
        )
    for index, record in enumerate(table.to_pylist()):
        yield f"row {index + 1} (index {index})", record


# --------------------------------------------------------------------------- validation


def _sample_from_row(row: Mapping[str, Any], where: str) -> EvalSample:
    for key in row:
        if key in _KNOWN_FIELDS or not isinstance(key, str):
            continue
        close = difflib.get_close_matches(key, _KNOWN_FIELDS, n=1, cutoff=0.85)
        if close and close[0] not in row:
            raise EvalError(f"{where}: unknown field {key!r}: did you mean {close[0]!r}?")

    question = row.get("question")
    if question is None or (isinstance(question, str) and not question.strip()):
        raise EvalError(f"{where}: missing 'question': every sample needs a question string")
    if not isinstance(question, str):
        raise EvalError(
            f"{where}: field 'question' must be a string, got {type(question).__name__}"
        )
    question = question.strip()

    lists = {name: _string_list(row.get(name), name, where) for name in _LIST_FIELDS}
    if not any(lists.values()):
        raise EvalError(
            f"{where}: sample has no references: give reference_doc_ids, "
            "reference_chunk_ids or reference_contexts"
        )

    answer = row.get("reference_answer")
    if answer is not None and not isinstance(answer, str):
        raise EvalError(
            f"{where}: field 'reference_answer' must be a string, got {type(answer).__name__}"
        )
    answer = answer.strip() if answer else None

    raw_id = row.get("id")
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        sample_id = default_sample_id(question)
    elif isinstance(raw_id, str | int) and not isinstance(raw_id, bool):
        sample_id = str(raw_id).strip()
    else:
        raise EvalError(f"{where}: field 'id' must be a string, got {type(raw_id).__name__}")

    return EvalSample(
        id=sample_id,
        question=question,
        reference_doc_ids=lists["reference_doc_ids"],
        reference_chunk_ids=lists["reference_chunk_ids"],
        reference_contexts=lists["reference_contexts"],
        reference_answer=answer,
    )


def _string_list(value: Any, name: str, where: str) -> tuple[str, ...]:
    """Normalise a list field: a list, a JSON-array string, a ``|``-separated string, or empty."""
    is_ids = name != "reference_contexts"
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return ()
        if text.startswith("[") and text.endswith("]"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise EvalError(
                    f"{where}: field {name!r} looks like a JSON array but is not valid JSON "
                    f'({exc.msg}): write it as ["a", "b"] or as a|b'
                ) from exc
        else:
            value = text.split("|")
    if not isinstance(value, list | tuple):
        raise EvalError(
            f"{where}: field {name!r} must be a list of strings, got {type(value).__name__}: "
            f'write it as ["a", "b"]'
        )
    items: list[str] = []
    for position, item in enumerate(value):
        if is_ids and isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str):
            raise EvalError(
                f"{where}: field {name!r} item {position} must be a string, got "
                f"{type(item).__name__}"
            )
        item = item.strip()
        if item:
            items.append(item)
    return tuple(items)


# --------------------------------------------------------------------------- SQuAD


def load_squad(
    path: str | Path,
    *,
    limit: int | None = None,
    seed: int = 0,
    include_contexts: bool = False,
) -> tuple[list[tuple[str, str]], list[EvalSample]]:
    """Read a SQuAD v1.1 JSON file as a corpus and an eval set.

    Returns ``(paragraphs, samples)``. ``paragraphs`` is every paragraph of the file as
    ``(doc_id, text)`` with ``doc_id = f"{title}#{paragraph_index}"`` (0-based index within
    the article), in file order. Each question becomes an :class:`EvalSample` with the SQuAD
    question id, ``reference_doc_ids = (doc_id of its paragraph,)`` and ``reference_answer``
    = its first answer (None when it has none). With ``include_contexts`` the paragraph text
    is also its ``reference_contexts`` (enables the text-based ragas metrics).

    ``limit`` keeps a deterministic random sample of that many questions (``random.Random(seed)``),
    returned in file order; the corpus always holds every paragraph, so the others act as
    distractors.
    """
    path = Path(path)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise EvalError(f"load_squad: limit must be a positive integer or None, got {limit!r}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EvalError(f"{path}: SQuAD file not found: check the path") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalError(f"{path}: cannot read the SQuAD file as JSON ({exc})") from exc

    articles = _squad_field(data, "data", list, f"{path}: top level", "a SQuAD v1.1 file")
    paragraphs: list[tuple[str, str]] = []
    samples: list[EvalSample] = []
    seen_docs: set[str] = set()
    for a_index, article in enumerate(articles):
        where = f"{path}: data[{a_index}]"
        title = str(_squad_field(article, "title", str, where, "the article title")).strip()
        paras = _squad_field(article, "paragraphs", list, where, "a list of paragraphs")
        for p_index, paragraph in enumerate(paras):
            p_where = f"{where}.paragraphs[{p_index}]"
            text = _squad_field(paragraph, "context", str, p_where, "the paragraph text")
            doc_id = f"{title}#{p_index}"
            if doc_id in seen_docs:
                raise EvalError(
                    f"{p_where}: doc id {doc_id!r} repeats (two articles titled {title!r}): "
                    "give each article a unique title"
                )
            seen_docs.add(doc_id)
            paragraphs.append((doc_id, text))
            qas = _squad_field(paragraph, "qas", list, p_where, "a list of questions")
            for q_index, qa in enumerate(qas):
                q_where = f"{p_where}.qas[{q_index}]"
                question = _squad_field(qa, "question", str, q_where, "the question text")
                answers = qa.get("answers") or []
                first = answers[0] if isinstance(answers, list) and answers else None
                answer = first.get("text") if isinstance(first, dict) else None
                samples.append(
                    EvalSample(
                        id=str(qa.get("id") or f"{doc_id}/q{q_index}"),
                        question=question.strip(),
                        reference_doc_ids=(doc_id,),
                        reference_contexts=(text,) if include_contexts else (),
                        reference_answer=answer.strip() if isinstance(answer, str) else None,
                    )
                )
    if limit is not None and limit < len(samples):
        keep = sorted(random.Random(seed).sample(range(len(samples)), limit))
        samples = [samples[i] for i in keep]
    return paragraphs, samples


def _squad_field(obj: Any, key: str, kind: type, where: str, what: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise EvalError(
            f"{where}: missing {key!r} ({what}): is this a SQuAD v1.1 file "
            '({"data": [{"title", "paragraphs": [{"context", "qas"}]}]})?'
        )
    value = obj[key]
    if not isinstance(value, kind):
        raise EvalError(
            f"{where}: field {key!r} must be a {kind.__name__}, got {type(value).__name__}"
        )
    return value


def eval_group_by(eval_set: EvalSetConfig, samples: Sequence[EvalSample]) -> str | None:
    """``doc_id`` when the eval set scores one hit per document: its ``group_by_document``,
    or by default when its references are document ids (none names a chunk)."""
    grouped = eval_set.group_by_document
    if grouped is None:
        grouped = any(s.reference_doc_ids for s in samples) and not any(
            s.reference_chunk_ids for s in samples
        )
    return "doc_id" if grouped else None
