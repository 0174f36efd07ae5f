"""The ragops command line, as a user runs it: real processes (stdout parsed as JSON, exit
statuses), and the long scenario in this process (the same Typer app and library, without
paying the model's import for every command)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_project


def ragops(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragops.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The same command run by the Typer app in this process (cwd and env applied)."""
    from typer.testing import CliRunner

    from ragops.cli import app

    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner(env=env).invoke(app, list(args))
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def as_json(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # the whole of stdout is one JSON document


def test_init_scaffolds_a_project_that_runs(tmp_path: Path) -> None:
    target = tmp_path / "new-project"
    bare = {"PATH": "/usr/bin:/bin"}
    result = as_json(ragops("init", str(target), "--json", cwd=tmp_path, env=bare))
    assert "ragops.yaml" in result["created"] and "docs/welcome.md" in result["created"]
    # `ragops` is not on that PATH: the next step names the script that works from any shell.
    script = Path(sys.executable).parent / "ragops"
    assert result["next"] == f"cd {target} && {script} run"
    activated = {"PATH": f"{script.parent}:/usr/bin:/bin"}
    other = ragops("init", str(tmp_path / "other"), cwd=tmp_path, env=activated)
    assert other.stdout.splitlines()[-1] == f"Next: cd {tmp_path / 'other'} && ragops run"
    for expected in (
        "ragops.yaml",
        "connectors/example_notes/__init__.py",
        "evals/starter.jsonl",
        "prompts/answer.txt",
        "docs/welcome.md",
        ".gitignore",
    ):
        assert (target / expected).is_file(), expected
    assert "#" in (target / "ragops.yaml").read_text(), "the configuration is commented"
    summary = as_json(ragops("run", "--json", cwd=target))
    [docs] = summary["indexes"]
    assert docs["sync"]["version"] == 1 and not summary["refused"]
    [promotion] = docs["promotions"]
    assert (promotion["action"], promotion["to_version"]) == ("promote", 1)
    assert docs["sample_search"]["hits"][0]["doc_id"] == "welcome.md"
    again = ragops("init", str(target), cwd=tmp_path)
    assert again.returncode == 1 and "not empty" in again.stderr


def test_sync_search_versions_promote_rollback_over_the_cli(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p")
    cwd = path.parent
    synced = as_json(cli("sync", "--json", cwd=cwd))
    [docs] = synced["indexes"]
    assert set(docs) >= {
        "index",
        "version",
        "generation",
        "documents",
        "chunks",
        "embedded",
        "points_written",
        "seconds",
    }
    assert set(docs["documents"]) >= {"seen", "new", "changed", "deleted", "quarantined"}
    assert docs["version"] == 1 and docs["documents"]["new"] == 4

    no_env = cli("search", "docs", "tides", "--json", cwd=cwd)
    assert no_env.returncode == 1
    assert json.loads(no_env.stdout)["error"]["type"] == "IndexNotFoundError"

    evals = as_json(cli("eval", "docs", "--json", cwd=cwd))
    assert evals["evals"][0]["metrics"]["recall@5"] == pytest.approx(1.0)
    assert cli("promote", "docs", "1", cwd=cwd).returncode == 0

    (cwd / "docs" / "bees.md").write_text("# Bees\n\nBees make honey from nectar.\n")
    env = {"RAGOPS_CONFIG": str(path)}
    assert (
        as_json(cli("sync", "docs", "--json", cwd=tmp_path, env=env))["indexes"][0]["version"] == 2
    )
    assert cli("promote", "docs", "2", "--force", "--reason", "demo", cwd=cwd).returncode == 0

    hits = as_json(cli("search", "docs", "what do bees make?", "-k", "2", "--json", cwd=cwd))
    assert hits["version"] == 2 and hits["hits"][0]["doc_id"] == "bees.md"
    pinned = as_json(
        cli("search", "docs", "what do bees make?", "--version", "1", "--json", cwd=cwd)
    )
    assert "bees.md" not in {h["doc_id"] for h in pinned["hits"]}
    filtered = as_json(
        cli("search", "docs", "bread", "--filter", "doc_id=rollback.md", "--json", cwd=cwd)
    )
    assert {h["doc_id"] for h in filtered["hits"]} == {"rollback.md"}

    rolled = cli("rollback", "docs", cwd=cwd)
    assert rolled.returncode == 0
    assert "production is held by pytest since" in rolled.stdout
    assert "`ragops release docs --env production` ends the hold" in rolled.stdout
    versions = as_json(cli("versions", "docs", "--json", cwd=cwd))["versions"]
    assert [(v["version"], v["environments"]) for v in versions] == [(1, ["production"]), (2, [])]
    history = as_json(cli("history", "docs", "--json", cwd=cwd))["history"]
    assert [h["action"] for h in history] == ["promote", "promote", "rollback", "hold"]
    assert history[1]["forced"] is False and history[1]["reason"] == "demo"
    assert history[3]["reason"] == "rolled back from version 2"

    again = as_json(cli("hold", "docs", "--json", cwd=cwd))
    assert again["changed"] is False and again["hold"]["by"] == "pytest"
    released = as_json(cli("release", "docs", "--json", cwd=cwd))
    assert released["changed"] is True and released["released"]["by"] == "pytest"
    assert "is not held" in cli("release", "docs", cwd=cwd).stdout
    held = cli("hold", "docs", "--reason", "freeze", cwd=cwd)
    assert held.returncode == 0 and "(freeze)" in held.stdout
    table = cli("history", "docs", cwd=cwd, env={"COLUMNS": "200"}).stdout
    assert "release" in table and "freeze" in table
    unlocked = cli("unlock", "docs", cwd=cwd)
    assert unlocked.returncode == 0 and "not locked" in unlocked.stdout


def test_run_exits_3_with_the_verdict_when_a_gate_refuses(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p", gates=["recall@5 >= 1.01"])
    result = ragops("run", "--json", cwd=path.parent)
    assert result.returncode == 3, result.stderr
    summary = json.loads(result.stdout)
    assert summary["refused"] is True
    [docs] = summary["indexes"]
    assert "recall@5 = 1.0000 fails >= 1.0100" in docs["refused"]["production"]
    assert docs["candidate"]["evals"][0]["metrics"]["recall@5"] == 1.0
    verdict = docs["verdicts"]["production"]
    assert verdict["passed"] is False and verdict["version"] == 1
    [gate] = verdict["gates"]
    assert (gate["metric"], gate["value"], gate["bound"], gate["passed"]) == (
        "recall@5", 1.0, 1.01, False,
    )  # fmt: skip
    assert gate["evidence"]["eval_id"] and gate["evidence"]["eval_set_sha256"], "what it read"
    refused = ragops("promote", "docs", "1", "--json", cwd=path.parent)
    assert refused.returncode == 3
    error = json.loads(refused.stdout)["error"]
    assert error["type"] == "PromotionError"
    assert [g["gate"] for g in error["gates"]] == ["recall@5 >= 1.01"]


def test_quarantine_lists_reasons(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p")
    (path.parent / "docs" / "locked.pdf").write_bytes(b"%PDF-1.7\n garbage")
    as_json(cli("sync", "--json", cwd=path.parent))
    rows = as_json(cli("quarantine", "docs", "--json", cwd=path.parent))["quarantined"]
    assert [r["doc_id"] for r in rows] == ["locked.pdf"] and rows[0]["reason"]


def test_bad_config_fails_before_work_with_key_value_and_fix(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p")
    path.write_text(path.read_text().replace("kind: sentence", "kind: sentances"))
    result = ragops("sync", "--json", cwd=path.parent)
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "ConfigError"
    assert "indexes.docs.chunker.kind = 'sentances'" in error["message"]
    assert not (path.parent / ".ragops").exists()


def test_missing_config_explains_how_to_find_one(tmp_path: Path) -> None:
    result = ragops("versions", "docs", cwd=tmp_path, env={"RAGOPS_CONFIG": ""})
    assert result.returncode == 1
    assert "ragops init" in result.stderr and "--config" in result.stderr


def test_a_second_sync_exits_at_once_naming_the_holder_or_waits(tmp_path: Path) -> None:
    import time

    path = write_project(tmp_path / "p")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from ragops.project import Project\n"
            f"project = Project.open({str(path)!r})\n"
            "_ = project.store\n"
            "print('holding', flush=True)\n"
            "time.sleep(20)\n"  # long enough for a refused sync on a loaded machine
            "project.close()\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        refused = ragops("sync", cwd=path.parent)
        assert refused.returncode == 1 and time.monotonic() - started < 30
        assert f"PID {holder.pid}" in refused.stderr
        waited = ragops("sync", "--wait", "--json", cwd=path.parent)
        assert waited.returncode == 0, waited.stderr
        assert "waiting" in waited.stderr
        assert json.loads(waited.stdout)["indexes"][0]["version"] == 1
    finally:
        holder.kill()
        holder.wait()
