"""Work done outside Dagster (the CLI, the Python API) appears in the project's real Dagster
instance as runless asset events, so the UI's history is complete whichever face did it; with
no instance, nothing is recorded and Dagster is not even imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dagster_defs import build_definitions
from tests.conftest import write_project
from tests.test_cli import as_json, cli

VERSION = dg.AssetKey(["docs", "index_version"])
EVAL = dg.AssetKey(["docs", "eval"])
PRODUCTION = dg.AssetKey(["docs", "production"])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "dagster-home"
    folder.mkdir()
    (folder / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return folder


def _events(instance: dg.DagsterInstance, key: dg.AssetKey, kind: str) -> list[Any]:
    fetch = instance.fetch_materializations if kind == "m" else instance.fetch_observations
    records = fetch(key, limit=100, ascending=True).records
    return [r.asset_materialization if kind == "m" else r.asset_observation for r in records]


def _meta(event: Any) -> dict[str, Any]:
    return {name: value.value for name, value in event.metadata.items()}


def test_cli_sync_eval_promote_and_rollback_are_asset_events(tmp_path: Path, home: Path) -> None:
    path = write_project(tmp_path / "p")
    cwd, env = path.parent, {"DAGSTER_HOME": str(home)}

    assert as_json(cli("sync", "--json", cwd=cwd, env=env))["indexes"][0]["version"] == 1
    assert cli("eval", "docs", cwd=cwd, env=env).returncode == 0
    assert cli("promote", "docs", "1", cwd=cwd, env=env).returncode == 0

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        [built] = _events(instance, VERSION, "m")
        assert _meta(built)["version"] == 1 and _meta(built)["new"] == 4
        assert built.tags["dagster/data_version"].endswith("-v1")
        [evaluated] = _events(instance, EVAL, "m")
        scores = _meta(evaluated)
        assert scores["version"] == 1 and scores["questions/recall@5"] == 1.0
        assert scores["questions/k"] == 5, "the eval set's own k, not the largest cutoff"
        assert "| **1** | questions | 1.000 |" in scores["scores_by_version"]
        [promoted] = _events(instance, PRODUCTION, "m")
        assert _meta(promoted)["version"] == 1
        assert _meta(promoted)["environments"] == {"production": 1}
        assert _meta(promoted)["promotions"][0]["action"] == "promote"
        assert not instance.get_runs(), "runless events: no run was launched"
    finally:
        instance.dispose()

    # A second version, its promotion, then a rollback, which holds production.
    (cwd / "docs" / "bees.md").write_text("# Bees\n\nBees make honey from nectar.\n")
    summary = as_json(cli("run", "--json", cwd=cwd, env=env))
    assert summary["indexes"][0]["promotions"][0]["to_version"] == 2
    assert cli("rollback", "docs", cwd=cwd, env=env).returncode == 0
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert [_meta(e)["version"] for e in _events(instance, VERSION, "m")] == [1, 2]
        # `ragops run` records the whole lineage: the documents and chunks steps, the gates.
        *_, listed = _events(instance, dg.AssetKey(["docs", "documents"]), "m")
        assert _meta(listed)["documents"] == 5 and _meta(listed)["connector"] == "filesystem"
        assert _meta(listed)["version"] == 2
        *_, staged = _events(instance, dg.AssetKey(["docs", "chunks"]), "m")
        assert (_meta(staged)["new"], _meta(staged)["version"]) == (1, 2)
        gates = dg.AssetCheckKey(EVAL, "gates_pass")
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key([gates])[gates]
        evaluation = check.event.dagster_event.event_specific_data
        assert evaluation.passed and evaluation.metadata["version"].value == 2
        assert [_meta(e)["version"] for e in _events(instance, EVAL, "m")] == [1, 2]
        moves = _events(instance, PRODUCTION, "m")
        assert [_meta(e)["version"] for e in moves] == [1, 2, 1]
        assert "rolled back to version 1" in _meta(moves[-1])["note"]
        assert "held by pytest" in _meta(moves[-1])["held"]["production"]
    finally:
        instance.dispose()
    assert cli("release", "docs", cwd=cwd, env=env).returncode == 0
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        [released] = _events(instance, PRODUCTION, "o")  # the pointer did not move
        assert _meta(released)["held"] == {} and "released" in _meta(released)["note"]
    finally:
        instance.dispose()


def test_a_cli_sync_lets_dagster_evaluate_but_a_cli_run_does_not_trigger_twice(
    tmp_path: Path, home: Path
) -> None:
    path = write_project(tmp_path / "p")
    cwd, env = path.parent, {"DAGSTER_HOME": str(home)}
    defs = build_definitions(str(path))
    instance = dg.DagsterInstance.from_config(str(home))

    def tick(cursor: Any) -> tuple[set[dg.AssetKey], Any]:
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
        requested = {key for key in (EVAL, PRODUCTION) if result.get_num_requested(key)}
        return requested, result.cursor

    try:
        assert cli("run", cwd=cwd, env=env).returncode == 0  # version 1, evaluated, promoted
        _, cursor = tick(None)
        requested, cursor = tick(cursor)
        assert requested == set()

        # `ragops run` records its version, eval and promotion together: nothing to redo.
        (cwd / "docs" / "bees.md").write_text("# Bees\n\nBees make honey from nectar.\n")
        assert cli("run", cwd=cwd, env=env).returncode == 0
        requested, cursor = tick(cursor)
        assert requested == set(), "the CLI evaluated and promoted version 2 itself"

        # `ragops sync` alone: a new version Dagster has not evaluated; automation asks for it.
        (cwd / "docs" / "wasps.md").write_text("# Wasps\n\nWasps do not make honey.\n")
        assert cli("sync", cwd=cwd, env=env).returncode == 0
        requested, cursor = tick(cursor)
        assert requested == {EVAL}
    finally:
        instance.dispose()


def test_without_an_instance_nothing_is_recorded_and_dagster_is_not_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    path = write_project(tmp_path / "p")
    probe = (
        "import sys\n"
        "from ragops.project import Project\n"
        f"project = Project.open({str(path)!r})\n"
        "assert not project.events.enabled, 'no instance folder: no sink'\n"
        "assert 'dagster' not in sys.modules, sorted(m for m in sys.modules if 'dagster' in m)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # Once `ragops ui` created <data_dir>/dagster, the project records there by default.
    (path.parent / ".ragops" / "dagster").mkdir(parents=True)
    from ragops.project import Project

    with Project.open(path) as project:
        assert project.events.enabled
    disabled = path.read_text() + "dagster:\n  record_events: false\n"
    path.write_text(disabled)
    with Project.open(path) as project:
        assert not project.events.enabled


def test_ragops_ui_catches_the_instance_up_with_what_the_cli_did_before_it_existed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CLI-only project (no Dagster instance yet) shows its whole history once the UI's
    instance exists: versions, evals and every production move, recorded once."""
    from ragops.events.history import catch_up
    from ragops.project import Project

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    path = write_project(tmp_path / "p")
    cwd = path.parent
    assert cli("run", cwd=cwd).returncode == 0  # version 1, evaluated, promoted
    (cwd / "docs" / "bees.md").write_text("# Bees\n\nBees make honey from nectar.\n")
    assert cli("run", cwd=cwd).returncode == 0  # version 2
    assert cli("rollback", "docs", "--reason", "bees are off topic", cwd=cwd).returncode == 0
    home = cwd / ".ragops" / "dagster"
    assert not home.exists(), "nothing was recorded: there was no instance"

    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with Project.open(path, events=None) as project:
        replayed = catch_up(project, home)
        assert replayed.counts["docs"] == {
            "documents": 1,
            "chunks": 1,
            "index_version": 2,
            "eval": 2,
            "gates": 2,
            "production": 4,
        }
        assert catch_up(project, home).total == 0, "a second catch-up records nothing"

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        built = _events(instance, VERSION, "m")
        assert [_meta(e)["version"] for e in built] == [1, 2]
        assert _meta(built[0])["recorded_from"] == "catalog" and _meta(built[0])["chunks"] > 0
        assert built[1].tags["dagster/data_version"].endswith("-v2")
        evals = _events(instance, EVAL, "m")
        assert [_meta(e)["version"] for e in evals] == [1, 2]
        assert _meta(evals[1])["questions/recall@5"] == 1.0
        moves = _events(instance, PRODUCTION, "m")
        assert [(_meta(e)["action"], _meta(e)["version"]) for e in moves] == [
            ("promote", 1),
            ("promote", 2),
            ("rollback", 1),
        ]
        gates = dg.AssetCheckKey(EVAL, "gates_pass")
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key([gates])[gates]
        evaluation = check.event.dagster_event.event_specific_data
        assert evaluation.passed and evaluation.metadata["version"].value == 2
        [hold] = _events(instance, PRODUCTION, "o")
        assert (
            _meta(hold)["action"] == "hold"
            and "held by pytest" in _meta(hold)["held"]["production"]
        )
        assert not instance.get_runs()
    finally:
        instance.dispose()

    # From now on the CLI records live, and a later catch-up adds nothing twice.
    assert cli("release", "docs", cwd=cwd).returncode == 0
    with Project.open(path, events=None) as project:
        assert catch_up(project, home).total == 0
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        hold, released = _events(instance, PRODUCTION, "o")  # the release, recorded live
        assert "released" in _meta(released)["note"] and _meta(released)["held"] == {}
        assert len(_events(instance, PRODUCTION, "m")) == 3
    finally:
        instance.dispose()
