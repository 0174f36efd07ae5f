"""The prompt registry: files in prompts/ → immutable content-hashed versions, aliases, CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragops.catalog import PROMPT, Catalog
from ragops.errors import (
    ConfigError,
    IndexNotFoundError,
    PromotionError,
    PromptRenderError,
    RagopsError,
)
from ragops.llm.prompt_files import content_sha256, parse_prompt
from ragops.llm.prompts import PromptRegistry
from tests.conftest import write_project

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "src" / "ragops" / "templates" / "project" / "prompts" / "answer.txt"

FRONT_MATTER = """\
---
description: Answer from retrieved context
variables: [context, question]
---
Answer the question using only the context below.

{context}

Question: {question}
"""


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    opened = Catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield opened
    opened.close()


@pytest.fixture
def prompts_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "prompts"
    folder.mkdir()
    return folder


@pytest.fixture
def registry(catalog: Catalog, prompts_dir: Path) -> PromptRegistry:
    return PromptRegistry(catalog, prompts_dir)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    return path


# -- files, hashing, immutability ---------------------------------------------------------------


def test_existing_example_without_front_matter_registers_and_goes_to_production(
    registry: PromptRegistry, prompts_dir: Path
) -> None:
    write(prompts_dir, "answer.txt", EXAMPLE.read_text(encoding="utf-8"))
    [version] = registry.scan()
    assert version.name == "answer" and version.number == 1
    assert version.variables == ("context", "question")
    assert version.description is None and version.path == "answer.txt"
    assert version.sha256 == content_sha256(EXAMPLE.read_text(encoding="utf-8"))
    assert version.short_id == version.sha256[:12] and len(version.short_id) == 12
    assert registry.aliases("answer") == {"production": version}
    assert registry.get("answer", "production") == version
    text = version.render(context="Rollback moves a pointer.", question="How?")
    assert "Rollback moves a pointer." in text and text.endswith("Question: How?\nAnswer:")
    # the repository's own prompts/answer.txt (the demo project) parses the same way
    assert parse_prompt((REPO / "prompts" / "answer.txt").read_text(), name="answer").variables


def test_content_is_hashed_after_normalization_and_identical_content_is_a_no_op(
    registry: PromptRegistry, prompts_dir: Path
) -> None:
    write(prompts_dir, "answer.txt", "Context: {context}\nQuestion: {question}\n")
    [first] = registry.scan()
    assert first.sha256 == hashlib.sha256(first.content.encode()).hexdigest()
    assert registry.scan() == []  # nothing new
    # CRLF line ends, a BOM and trailing blank lines are the same content
    write(prompts_dir, "answer.txt", "\ufeffContext: {context}\r\nQuestion: {question}\r\n\r\n  ")
    assert registry.scan() == []
    assert [v.sha256 for v in registry.versions("answer")] == [first.sha256]
    # the same text in another prompt is another prompt's version
    write(prompts_dir, "other.md", "Context: {context}\nQuestion: {question}\n")
    [other] = registry.scan()
    assert (other.name, other.sha256, other.path) == ("other", first.sha256, "other.md")


def test_an_edited_file_is_a_new_version_and_the_old_one_stays_retrievable(
    registry: PromptRegistry, prompts_dir: Path
) -> None:
    path = write(prompts_dir, "answer.txt", "v1 {question}\n")
    [v1] = registry.scan()
    write(prompts_dir, "answer.txt", FRONT_MATTER)
    [v2] = registry.scan()
    assert (v2.number, v2.description) == (2, "Answer from retrieved context")
    assert v2.template.startswith("Answer the question") and "---" not in v2.template
    assert registry.get("answer") == registry.get("answer", "latest") == v2
    # editing never changes what production serves
    assert registry.get("answer", "production") == v1
    for ref in ("v1", v1.sha256, v1.short_id, v1.sha256[:6].upper(), v1.ref):
        assert registry.get("answer", ref) == v1, ref
    # a reverted file is the old version again, not a new one
    write(prompts_dir, "answer.txt", "v1 {question}\n")
    assert registry.scan() == []
    assert registry.get("answer", "latest") == v2
    # versions are immutable: stored text never changes, and survive the file's deletion
    path.unlink()
    assert registry.scan() == []
    again = registry.get("answer", "v1")
    assert (again.template, again.content, again.sha256) == (v1.template, v1.content, v1.sha256)
    assert again.render(question="Q") == "v1 Q"
    assert [v.number for v in registry.versions("answer")] == [1, 2]


def test_prompt_files_in_the_folder(registry: PromptRegistry, prompts_dir: Path) -> None:
    write(prompts_dir, "answer.txt", "{question}")
    write(prompts_dir, "summary.md", "Summarize: {text}")
    write(prompts_dir, "README.md", "How we write prompts: {not a prompt}")
    write(prompts_dir, "_draft.txt", "{draft}")
    write(prompts_dir, ".hidden.txt", "{hidden}")
    write(prompts_dir, "notes.json", "{}")
    assert sorted(registry.files()) == ["answer", "summary"]
    assert {v.name for v in registry.scan()} == {"answer", "summary"}
    write(prompts_dir, "answer.md", "{question}")
    with pytest.raises(ConfigError, match="both define prompt 'answer'"):
        registry.scan()
    (prompts_dir / "answer.md").unlink()
    write(prompts_dir, "Bad Name.txt", "{question}")
    with pytest.raises(ConfigError, match="not a valid prompt name.*rename the file"):
        registry.scan()


def test_no_prompts_folder_is_an_empty_registry(catalog: Catalog, tmp_path: Path) -> None:
    registry = PromptRegistry(catalog, tmp_path / "missing")
    assert registry.scan() == [] and registry.names() == []


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "---\nvariables: [context, question]\n---\n{context}\n",
            r"'question' is declared in `variables:` but the text never uses \{question\}",
        ),
        (
            "---\nvariables: [context]\n---\n{context}\n\n{question}\n",
            r"\{question\} is used on line 6 but not declared; add 'question' to `variables:`",
        ),
        ("---\nvarables: [a]\n---\n{a}\n", r"unknown front matter key 'varables' \(did you mean"),
        ("---\nvariables: context\n---\n{context}\n", r"write a list of names"),
        ("---\nvariables: [a, a]\n---\n{a}\n", r"a declared more than once"),
        ("---\nvariables: [a-b]\n---\n{a}\n", r"'a-b' is not a valid variable name"),
        ("---\ndescription: [x\n---\n{a}\n", r"front matter is not valid YAML on line 2"),
        ("---\ndescription: x\n{a}\n", r"never closed; add a line '---'"),
        ("---\ndescription: x\n---\n\n", r"the prompt has no text"),
        ("Context:\n{0}\n", r"line 2: \{0\} is positional; name it"),
        ("Use {} here", r"line 1: \{\} is positional"),
        ("{user.name}", r"reads an attribute or item"),
        ("{items[0]}", r"reads an attribute or item"),
        ("{ question }", r"is not a placeholder name"),
        ('Reply as JSON: {"answer": "..."}', r"literal brace"),
        ("Reply as JSON: {\n", r"line 1: '\{' is never closed"),
        ("a } b", r"line 1: a single '\}'; write \{\{ and \}\} for a literal brace"),
        ("{a!x}", r"conversion must be !r, !s or !a"),
    ],
)
def test_invalid_prompt_files_name_the_file_the_problem_and_the_fix(
    registry: PromptRegistry, prompts_dir: Path, text: str, expected: str
) -> None:
    write(prompts_dir, "good.txt", "{question}")
    path = write(prompts_dir, "broken.txt", text)
    with pytest.raises(ConfigError, match=expected) as caught:
        registry.scan()
    assert str(path) in str(caught.value)
    assert registry.names() == []  # nothing registered while any file is invalid


def test_every_invalid_file_is_reported_at_once(
    registry: PromptRegistry, prompts_dir: Path
) -> None:
    write(prompts_dir, "one.txt", "{0}")
    write(prompts_dir, "two.txt", "---\nvariables: [x]\n---\n{y}\n")
    with pytest.raises(ConfigError, match="2 prompt files are invalid") as caught:
        registry.scan()
    assert "one.txt" in str(caught.value) and "two.txt" in str(caught.value)


def test_valid_templates_keep_literal_braces_formats_and_declared_order() -> None:
    prompt = parse_prompt(
        "---\ndescription: scores\nvariables: [b, a]\n---\n"
        'JSON: {{"score": {a:.2f}}} from {b!r} and {a:.2f} again\n',
        name="score",
    )
    assert prompt.variables == ("b", "a")  # as declared
    inferred = parse_prompt("{b} {a} {b}", name="x")
    assert inferred.variables == ("b", "a")  # in order of first use
    assert parse_prompt("No variables, {{literal}}.", name="x").variables == ()


# -- rendering ---------------------------------------------------------------------------------


def test_render_fills_every_variable_and_refuses_missing_or_extra(
    registry: PromptRegistry, prompts_dir: Path
) -> None:
    write(prompts_dir, "score.txt", 'JSON: {{"score": {score:.2f}}} for {question}\n')
    [prompt] = registry.scan()
    assert prompt.render(score=0.5, question="q {x}") == 'JSON: {"score": 0.50} for q {x}'
    with pytest.raises(PromptRenderError, match=r"takes score, question; missing question"):
        prompt.render(score=1.0)
    with pytest.raises(PromptRenderError, match=r"unexpected extra"):
        prompt.render(score=1.0, question="q", extra="x")
    with pytest.raises(PromptRenderError, match="cannot be rendered"):
        prompt.render(score="not a number", question="q")
    assert issubclass(PromptRenderError, RagopsError) and issubclass(PromptRenderError, ValueError)
    # a variable may be called `self`
    assert parse_prompt("{self}", name="x").variables == ("self",)
    write(prompts_dir, "selfish.txt", "{self}")
    registry.scan()
    assert registry.get("selfish").render(self="me") == "me"


# -- aliases, promote, rollback, history --------------------------------------------------------


def test_promote_rollback_and_history(catalog_url: str, tmp_path: Path) -> None:
    prompts_dir = tmp_path / "prompts"
    prompts_dir.mkdir()
    catalog = Catalog(catalog_url)
    try:
        _promote_rollback_and_history(PromptRegistry(catalog, prompts_dir), prompts_dir)
    finally:
        catalog.close()


def _promote_rollback_and_history(registry: PromptRegistry, prompts_dir: Path) -> None:
    versions = []
    for text in ("one {q}", "two {q}", "three {q}"):
        write(prompts_dir, "answer.txt", text)
        versions.extend(registry.scan())
    v1, v2, v3 = versions
    assert registry.aliases("answer") == {"production": v1}  # only the first is automatic

    staged = registry.promote("answer", "latest", "staging", actor="ci", reason="try it")
    assert (staged.action, staged.from_target, staged.to_target) == ("promote", None, v3.sha256)
    moved = registry.promote("answer", "v2", reason="better")
    assert (moved.from_target, moved.to_target) == (v1.sha256, v2.sha256)
    registry.promote("answer", v3.short_id)
    assert registry.aliases("answer") == {"production": v3, "staging": v3}
    unchanged = registry.promote("answer", "v3")
    assert unchanged.action == "unchanged"
    stack = registry.catalog.pointers.stack(PROMPT, "answer", "production")
    assert [m.to_target for m in stack] == [v1.sha256, v2.sha256, v3.sha256]

    back = registry.rollback("answer", reason="v3 hallucinates")
    assert (back.action, back.from_target, back.to_target) == ("rollback", v3.sha256, v2.sha256)
    assert registry.get("answer", "production") == v2
    registry.rollback("answer")
    assert registry.get("answer", "production") == v1
    with pytest.raises(PromotionError, match="no earlier version to roll back to"):
        registry.rollback("answer")
    with pytest.raises(PromotionError, match="no earlier version"):
        registry.rollback("answer", "staging")
    with pytest.raises(IndexNotFoundError, match="no 'canary' alias to roll back"):
        registry.rollback("answer", "canary")

    history = registry.history("answer")
    assert [(m.name, m.action, m.to_target) for m in history] == [
        ("production", "promote", v1.sha256),
        ("staging", "promote", v3.sha256),
        ("production", "promote", v2.sha256),
        ("production", "promote", v3.sha256),
        ("production", "rollback", v2.sha256),
        ("production", "rollback", v1.sha256),
    ]
    assert history[0].reason == "first version (automatic)"
    assert (history[1].actor, history[1].reason) == ("ci", "try it")
    assert history[4].reason == "v3 hallucinates"
    assert [m.name for m in registry.history("answer", "staging")] == ["staging"]
    assert history[0].at <= history[-1].at and history[0].at.tzinfo is not None

    # the registry is shared: another instance on the same catalog sees the same state
    other = PromptRegistry(registry.catalog, prompts_dir)
    assert other.get("answer", "production") == v1 and other.get("answer", "staging") == v3


@pytest.mark.parametrize("alias", ["latest", "v2", "Prod", "with space"])
def test_alias_names_that_cannot_be_refs_are_refused(
    registry: PromptRegistry, prompts_dir: Path, alias: str
) -> None:
    write(prompts_dir, "answer.txt", "{q}")
    registry.scan()
    with pytest.raises(ConfigError, match=f"alias {alias!r} is not allowed"):
        registry.promote("answer", "v1", alias)


def test_unknown_prompts_and_refs_say_what_exists(
    registry: PromptRegistry, prompts_dir: Path
) -> None:
    write(prompts_dir, "answer.txt", "one {q}")
    [v1] = registry.scan()
    with pytest.raises(IndexNotFoundError, match=r"no prompt 'answr' \(did you mean 'answer'\?\)"):
        registry.get("answr")
    with pytest.raises(IndexNotFoundError) as caught:
        registry.get("answer", "staging")
    message = str(caught.value)
    assert "'staging'" in message and f"production → v1 {v1.short_id}" in message
    assert "v<N>" in message and "latest" in message
    with pytest.raises(IndexNotFoundError, match="no alias, version or hash 'v9'"):
        registry.get("answer", "v9")
    with pytest.raises(IndexNotFoundError, match="no alias, version or hash"):
        registry.get("answer", "ffffffff")
    write(prompts_dir, "fresh.txt", "{q}")
    with pytest.raises(
        IndexNotFoundError, match="is not registered yet; run `ragops prompts list`"
    ):
        registry.get("fresh")


def test_a_short_prefix_that_matches_two_versions_is_ambiguous(
    registry: PromptRegistry, prompts_dir: Path
) -> None:
    seen: dict[str, str] = {}
    for i in range(100_000):  # two texts whose hashes share their first 4 hex digits
        text = f"variant {i}: {{q}}"
        prefix = content_sha256(text)[:4]
        if prefix in seen:
            break
        seen[prefix] = text
    for variant in (seen[prefix], text):
        write(prompts_dir, "answer.txt", variant)
        registry.scan()
    with pytest.raises(IndexNotFoundError, match="matches 2 versions .*give more digits"):
        registry.get("answer", prefix)
    with pytest.raises(IndexNotFoundError, match="no alias, version or hash"):
        registry.get("answer", prefix[:3])  # shorter than 4 digits is not a hash ref
    assert registry.get("answer", content_sha256(text)[:12]).number == 2


def test_diff_shows_the_change_between_two_versions(
    registry: PromptRegistry, prompts_dir: Path
) -> None:
    write(prompts_dir, "answer.txt", "Context: {context}\nQuestion: {question}\n")
    [v1] = registry.scan()
    write(prompts_dir, "answer.txt", "Context: {context}\nQ: {question}\nBe brief.\n")
    [v2] = registry.scan()
    text = registry.diff("answer")  # production → latest
    assert text.startswith(f"--- {v1.ref} (v1, production)\n+++ {v2.ref} (v2, latest)\n")
    assert "-Question: {question}\n" in text and "+Q: {question}\n+Be brief.\n" in text
    assert " Context: {context}\n" in text
    assert registry.diff("answer", "v2", "v1").startswith(f"--- {v2.ref}")
    assert registry.diff("answer", "production", "v1") == ""


def test_concurrent_scans_register_each_version_once(catalog: Catalog, tmp_path: Path) -> None:
    prompts_dir = tmp_path / "prompts"
    prompts_dir.mkdir()
    for i in range(4):
        write(prompts_dir, f"p{i}.txt", f"prompt {i}: {{x}}")
    registered: list[int] = []
    failures: list[BaseException] = []

    def scan() -> None:
        own = Catalog(catalog.url)  # its own engine, like another process
        try:
            registered.append(len(PromptRegistry(own, prompts_dir).scan()))
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=scan) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures and sum(registered) == 4
    registry = PromptRegistry(catalog, prompts_dir)
    assert all(len(registry.history(name)) == 1 for name in registry.names())


# -- the CLI -------------------------------------------------------------------------------------


def ragops(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragops.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )


def as_json(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # the whole of stdout is one JSON document


def test_prompts_cli(tmp_path: Path) -> None:
    config = write_project(tmp_path / "p")
    cwd = config.parent
    (cwd / "prompts").mkdir()
    prompt_file = write(cwd / "prompts", "answer.txt", EXAMPLE.read_text(encoding="utf-8"))

    listed = ragops("prompts", "list", "--json", cwd=cwd)
    assert "registered answer@" in listed.stderr
    [row] = as_json(listed)["prompts"]
    v1 = row["latest"]
    assert row | {"description": None} == {
        "name": "answer",
        "versions": 1,
        "production": v1,
        "staging": None,
        "latest": v1,
        "latest_number": 1,
        "aliases": {"production": v1},
        "variables": ["context", "question"],
        "description": None,
        "file": "answer.txt",
    }

    prompt_file.write_text(FRONT_MATTER, encoding="utf-8")
    shown = as_json(ragops("prompts", "show", "answer", "--version", "latest", "--json", cwd=cwd))
    v2 = shown["short_id"]
    assert shown["number"] == 2 and shown["aliases"] == []
    assert shown["description"] == "Answer from retrieved context"
    assert shown["template"].startswith("Answer the question") and "{question}" in shown["template"]
    production = as_json(ragops("prompts", "show", "answer", "--json", cwd=cwd))
    assert production["short_id"] == v1 and production["aliases"] == ["production"]

    diff = ragops("prompts", "diff", "answer", cwd=cwd)
    assert diff.returncode == 0, diff.stderr
    assert f"--- answer@{v1} (v1, production)" in diff.stdout
    assert "+description: Answer from retrieved context" in diff.stdout
    diffed = as_json(ragops("prompts", "diff", "answer", "--json", cwd=cwd))
    assert (diffed["a"]["number"], diffed["b"]["number"], diffed["same"]) == (1, 2, False)
    assert "+description: Answer from retrieved context" in diffed["diff"]

    text = ragops("prompts", "show", "answer", cwd=cwd)
    assert text.returncode == 0 and "Question: {question}" in text.stdout

    promoted = ragops("prompts", "promote", "answer", "latest", "--reason", "clearer", cwd=cwd)
    assert promoted.returncode == 0, promoted.stderr
    assert f"production moved from v1 {v1} to v2 {v2}" in promoted.stdout
    staged = as_json(
        ragops("prompts", "promote", "answer", v1, "--alias", "staging", "--json", cwd=cwd)
    )
    assert (staged["alias"], staged["action"], staged["from"], staged["to_number"]) == (
        "staging",
        "promote",
        None,
        1,
    )

    history = as_json(ragops("prompts", "history", "answer", "--json", cwd=cwd))["history"]
    assert [(h["alias"], h["action"], h["to_number"]) for h in history] == [
        ("production", "promote", 1),
        ("production", "promote", 2),
        ("staging", "promote", 1),
    ]
    assert history[1]["reason"] == "clearer" and history[1]["actor"] == "pytest"

    rolled = ragops("prompts", "rollback", "answer", cwd=cwd)
    assert rolled.returncode == 0, rolled.stderr
    assert f"production rolled back from v2 {v2} to v1 {v1}" in rolled.stdout
    refused = ragops("prompts", "rollback", "answer", "--alias", "staging", "--json", cwd=cwd)
    assert (
        refused.returncode == 1
        and "no earlier version" in json.loads(refused.stdout)["error"]["message"]
    )
    listed_again = as_json(ragops("prompts", "list", "--json", cwd=cwd))["prompts"][0]
    assert (listed_again["production"], listed_again["staging"]) == (v1, v1)
    assert (listed_again["latest"], listed_again["versions"]) == (v2, 2)

    # --config from another folder
    elsewhere = ragops("--config", str(config), "prompts", "list", "--json", cwd=tmp_path)
    assert as_json(elsewhere)["prompts"][0]["name"] == "answer"


def test_prompts_cli_errors(tmp_path: Path) -> None:
    config = write_project(tmp_path / "p")
    cwd = config.parent
    empty = as_json(ragops("prompts", "list", "--json", cwd=cwd))
    assert empty["prompts"] == []  # no prompts/ folder yet

    (cwd / "prompts").mkdir()
    write(cwd / "prompts", "answer.txt", "{question}")
    missing = ragops("prompts", "show", "nope", "--json", cwd=cwd)
    assert missing.returncode == 1
    error = json.loads(missing.stdout)["error"]
    assert error["type"] == "IndexNotFoundError" and "no prompt 'nope'" in error["message"]
    assert "no prompt 'nope'" in missing.stderr

    rollback = ragops("prompts", "rollback", "answer", cwd=cwd)
    assert rollback.returncode == 1 and "no earlier version" in rollback.stderr

    write(cwd / "prompts", "broken.txt", "---\nvariables: [context]\n---\n[x] {question}\n")
    broken = ragops("prompts", "list", cwd=cwd)
    assert broken.returncode == 1
    assert "broken.txt" in broken.stderr and "`variables:`" in broken.stderr
