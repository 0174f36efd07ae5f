"""The Dagster code location: real Dagster runs on a tiny project, no mocks.

Each run materializes the whole graph in-process (a few seconds each on 2 cores); the
``ragops ui`` end-to-end test starts ``dagster dev`` and is marked slow.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from dagster_defs import MAIN_JOB, SOURCES_SENSOR, build_definitions
from ragops.catalog import INDEX, PROMPT
from ragops.errors import ConfigError
from tests.conftest import write_project

SOURCE_KEYS = [["docs", "documents"]]
LINEAGE = {  # asset → its upstream assets
    ("docs", "documents"): set(),
    ("docs", "chunks"): {("docs", "documents")},
    ("docs", "index_version"): {("docs", "chunks")},
    ("docs", "eval"): {("docs", "index_version")},
    ("docs", "production"): {("docs", "eval")},
}


def _open(path: Path) -> Any:
    from ragops.project import Project

    return Project.open(path)


def _production(project: Any) -> int | None:
    pointer = project.catalog.pointers.get(INDEX, "docs", "production")
    return pointer.version if pointer is not None else None


def _materialize_all(
    defs: dg.Definitions, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*(defs.assets or []), *(defs.asset_checks or [])],  # type: ignore[list-item]
        resources=defs.resources,
        instance=instance,
        raise_on_error=False,
    )


def _metadata(result: dg.ExecuteInProcessResult) -> dict[tuple[str, ...], dict[str, Any]]:
    """Materialization metadata of the run, by asset key path, as plain values."""
    return {
        tuple(event.asset_key.path): {k: v.value for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
        if event.asset_key is not None
    }


def _data_version(result: dg.ExecuteInProcessResult, *key: str) -> str:
    [event] = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(list(key))
    ]
    return str((event.materialization.tags or {})["dagster/data_version"])


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    return {c.check_name: c for c in result.get_asset_check_evaluations()}


def test_materialize_builds_evaluates_and_promotes(tmp_path: Path) -> None:
    path = write_project(tmp_path / "project")
    defs = build_definitions(str(path))
    instance = dg.DagsterInstance.ephemeral()

    first = _materialize_all(defs, instance)
    assert first.success
    meta = _metadata(first)
    assert set(meta) == set(LINEAGE)
    assert meta["docs", "documents"]["documents"] == 4
    assert meta["docs", "documents"]["bytes"] > 0
    assert meta["docs", "chunks"]["parsed"] == 4
    assert meta["docs", "chunks"]["chunks"] > 0
    built = meta["docs", "index_version"]
    assert built["version"] == 1 and built["created_version"] is True
    assert built["new"] == 4 and built["embedded"] > 0
    assert built["collection"].startswith("docs__") and len(built["fingerprint"]) == 64
    assert meta["docs", "eval"]["version"] == 1
    assert 0.0 <= meta["docs", "eval"]["questions/recall@5"] <= 1.0
    assert meta["docs", "production"]["promoted"] is True
    assert meta["docs", "production"]["version"] == 1
    assert _checks(first)["gates_pass"].passed
    with _open(path) as project:
        assert [v.number for v in project.catalog.versions.of_index("docs")] == [1]
        assert _production(project) == 1
        assert project.catalog.evals.of_version("docs", 1)
        staging = project.config.data_path / "staging" / "docs"
    assert not staging.exists(), "the index_version step clears the staged changes"

    # No source change: the listing hashes the same, nothing is embedded, no new version.
    second = _materialize_all(defs, instance)
    assert second.success
    meta2 = _metadata(second)
    assert _data_version(second, "docs", "documents") == _data_version(first, "docs", "documents")
    assert meta2["docs", "index_version"]["embedded"] == 0
    assert meta2["docs", "index_version"]["created_version"] is False
    assert meta2["docs", "index_version"]["version"] == 1
    assert meta2["docs", "production"]["promoted"] is False

    # One document changes: version 2 is built (only that document embedded) and promoted.
    doc = tmp_path / "project" / "docs" / "rollback.md"
    doc.write_text(doc.read_text() + "\nRollback is audited in the catalog history.\n")
    third = _materialize_all(defs, instance)
    assert third.success
    meta3 = _metadata(third)
    assert meta3["docs", "index_version"]["version"] == 2
    assert meta3["docs", "index_version"]["changed"] == 1
    embedded = meta3["docs", "index_version"]["embedded"]
    assert 0 < embedded <= meta["docs", "index_version"]["embedded"]
    assert _data_version(third, "docs", "documents") != _data_version(first, "docs", "documents")
    [promotion] = meta3["docs", "production"]["promotions"]
    assert (promotion["from_version"], promotion["to_version"]) == (1, 2)
    assert meta3["docs", "production"]["version"] == 2
    with _open(path) as project:
        assert [v.number for v in project.catalog.versions.of_index("docs")] == [1, 2]
        assert _production(project) == 2
        assert project.catalog.evals.of_version("docs", 2)


def test_failing_gate_blocks_promotion(tmp_path: Path) -> None:
    path = write_project(tmp_path / "project", gates=["recall@5 >= 1.01"])
    defs = build_definitions(str(path))
    job = defs.resolve_job_def(MAIN_JOB)

    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)

    assert not result.success
    check = _checks(result)["gates_pass"]
    assert check.passed is False
    assert "questions: recall@5 >= 1.01" in check.metadata
    assert "fails" in check.metadata["questions: recall@5 >= 1.01"].value
    meta = _metadata(result)
    assert ("docs", "eval") in meta, "the version is built and evaluated"
    assert ("docs", "production") not in meta, "the blocking check stops the promotion step"
    failed = {e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"}
    assert failed == {"docs__eval_gates_pass"}
    with _open(path) as project:
        assert [v.number for v in project.catalog.versions.of_index("docs")] == [1]
        assert project.catalog.evals.of_version("docs", 1)
        assert _production(project) is None


def test_a_run_promotes_exactly_what_it_evaluated_while_the_cli_syncs_beside_it(
    tmp_path: Path, catalog_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the run's eval and its production step, a CLI sync builds version 3 and the
    prompt file is edited: the run still promotes version 2 with the prompt it evaluated."""
    import threading

    path = write_project(
        tmp_path / "project", catalog_url=catalog_url, extra_index="    prompt: answer\n"
    )
    prompts = path.parent / "prompts"
    prompts.mkdir()
    (prompts / "answer.txt").write_text("Context:\n{context}\nQ: {question}\n")
    defs = build_definitions(str(path))
    instance = dg.DagsterInstance.ephemeral()
    assert _materialize_all(defs, instance).success
    docs = path.parent / "docs"
    (docs / "bees.md").write_text("# Bees\n\nBees make honey from nectar.\n")
    (prompts / "answer.txt").write_text("Use the context:\n{context}\nQuestion: {question}\n")

    release = tmp_path / "release"
    monkeypatch.setenv("RAGOPS_PAUSE_AT", "before_release")
    monkeypatch.setenv("RAGOPS_PAUSE_FILE", str(release))
    outcome: dict[str, Any] = {}
    run = threading.Thread(target=lambda: outcome.update(result=_materialize_all(defs, instance)))
    run.start()
    reached = release.with_name(release.name + ".reached")
    deadline = time.monotonic() + 300
    while not reached.exists() and time.monotonic() < deadline and run.is_alive():
        time.sleep(0.1)
    assert reached.exists(), "the run reached its production step"

    (docs / "wasps.md").write_text("# Wasps\n\nWasps do not make honey.\n")
    (prompts / "answer.txt").write_text("A third prompt:\n{context}\n{question}\n")
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("RAGOPS_PAUSE")}
    cli = subprocess.run(
        [sys.executable, "-m", "ragops.cli", "--config", str(path), "sync", "--json"],
        capture_output=True,
        text=True,
        env=child_env,
        timeout=600,
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["indexes"][0]["version"] == 3
    release.touch()
    run.join(timeout=600)
    result = outcome["result"]
    assert result.success
    meta = _metadata(result)
    evaluated = meta["docs", "eval"]
    assert evaluated["version"] == 2
    with _open(path) as project:
        assert _production(project) == 2, "the evaluated version, not the newest"
        served = project.catalog.pointers.get(PROMPT, "answer", "production")
        assert served is not None and served.target == evaluated["prompt_sha256"]
        newest = project.catalog.prompts.of_prompt("answer")[-1]
        assert newest.sha256 != served.target, "the prompt edited after the eval waits"
        move = project.catalog.pointers.history(INDEX, "docs", "production")[-1]
        assert {g["evidence"]["version"] for g in move.evidence["gates"]} <= {2}


def test_definitions_load_with_the_expected_lineage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_project(tmp_path / "project")
    defs = build_definitions(str(path))
    dg.Definitions.validate_loadable(defs)

    graph = defs.resolve_asset_graph()
    keys = {tuple(key.path) for key in graph.get_all_asset_keys()}
    assert keys == set(LINEAGE) | {("queries", "log")}
    for key, parents in LINEAGE.items():
        node = graph.get(dg.AssetKey(list(key)))
        assert {tuple(p.path) for p in node.parent_keys} == parents, key
        assert node.description, f"{key} has no description"
        assert node.group_name == ("sources" if key[1] == "documents" else "index_docs")
    assert "promotion step" in str(graph.get(dg.AssetKey(["docs", "production"])).description)

    specs = [spec for checks in defs.asset_checks for spec in checks.check_specs]  # type: ignore[union-attr]
    assert [(s.asset_key, s.name, s.blocking) for s in specs] == [
        (dg.AssetKey(["docs", "eval"]), "gates_pass", True)
    ]
    job = defs.resolve_job_def(MAIN_JOB)
    assert job.executor_def is dg.in_process_executor
    assert defs.executor is dg.in_process_executor
    executable = {tuple(k.path) for k in job.asset_layer.executable_asset_keys}
    assert executable == set(LINEAGE), "the query log is observed, not built, by the job"
    sensor = defs.resolve_sensor_def(SOURCES_SENSOR)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 30
    assert sensor.job_name == MAIN_JOB

    # `dagster dev -m dagster_defs` finds `defs` through $RAGOPS_CONFIG.
    import dagster_defs

    monkeypatch.setenv("RAGOPS_CONFIG", str(path))
    loaded = dagster_defs.defs
    assert isinstance(loaded, dg.Definitions)
    assert {tuple(k.path) for k in loaded.resolve_asset_graph().get_all_asset_keys()} == keys


def test_bad_config_fails_when_the_code_location_loads(tmp_path: Path) -> None:
    path = write_project(tmp_path / "project")
    path.write_text(path.read_text().replace("root: docs", "root: docs\n    recursive: true"))
    with pytest.raises(ConfigError, match="sources.docs.recursive"):
        build_definitions(str(path))


# -- the sources sensor ------------------------------------------------------------------------

INDEX_KEYS = [dg.AssetKey(list(key)) for key in LINEAGE]  # documents → … → production


def _tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None
) -> Any:  # SensorExecutionData
    with dg.build_sensor_context(
        instance=instance, cursor=cursor, definitions=defs, resources=defs.resources
    ) as context:
        return defs.resolve_sensor_def(SOURCES_SENSOR).evaluate_tick(context)


def _run_request(tick: Any) -> dg.RunRequest:
    assert tick.skip_message is None, tick.skip_message
    [request] = tick.run_requests
    return request  # type: ignore[no-any-return]


def _skipped(tick: Any) -> str:
    assert not tick.run_requests, tick.run_requests
    assert tick.skip_message
    return str(tick.skip_message)


def test_an_index_schedule_asks_for_the_index_run(tmp_path: Path) -> None:
    path = write_project(tmp_path / "project")
    text = path.read_text().replace("root: docs", "root: docs\n    watch: false")
    path.write_text(
        text.replace("  docs:\n    sources:", "  docs:\n    schedule: '0 * * * *'\n    sources:", 1)
    )
    defs = build_definitions(str(path))
    schedule = defs.resolve_schedule_def("ragops_sync_docs")
    assert schedule.cron_schedule == "0 * * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    with dg.instance_for_test() as instance, dg.build_schedule_context(instance=instance) as ctx:
        [request] = schedule.evaluate_tick(ctx).run_requests
    assert request.asset_selection == INDEX_KEYS
    assert request.tags["ragops/trigger"] == "schedule"
    assert request.tags["ragops/indexes"] == "docs"

    path.write_text(path.read_text().replace("'0 * * * *'", "'every hour'"))
    with pytest.raises(ConfigError, match=r"indexes.docs.schedule = 'every hour' is not a cron"):
        build_definitions(str(path))


def test_sensor_leaves_unwatched_sources_alone(tmp_path: Path) -> None:
    path = write_project(tmp_path / "project")
    path.write_text(path.read_text().replace("root: docs", "root: docs\n    watch: false"))
    defs = build_definitions(str(path))
    skipped = _skipped(_tick(defs, dg.DagsterInstance.ephemeral(), None))
    assert "index 'docs': none of its sources is watched (watch: false)" in skipped


def test_sensor_requests_a_sync_when_the_sources_change(tmp_path: Path) -> None:
    path = write_project(tmp_path / "project")
    defs = build_definitions(str(path))
    instance = dg.DagsterInstance.ephemeral()

    # First tick, no version in the catalog yet: the index is built.
    first = _tick(defs, instance, None)
    request = _run_request(first)
    assert request.asset_selection == INDEX_KEYS
    assert request.tags["ragops/indexes"] == "docs"
    assert first.cursor

    # Nothing changed since: skipped, cursor kept.
    same = _tick(defs, instance, first.cursor)
    assert "sources unchanged (4 documents)" in _skipped(same)
    assert same.cursor == first.cursor

    # A new file: a new request (its own run key), and the cursor moves on.
    docs = tmp_path / "project" / "docs"
    backup = tmp_path / "backup"
    shutil.copytree(docs, backup, copy_function=shutil.copy2)  # keeps modification times
    (tmp_path / "project" / "docs" / "new.md").write_text("# New\n\nA new page.\n")
    changed = _tick(defs, instance, same.cursor)
    again = _run_request(changed)
    assert again.asset_selection == INDEX_KEYS
    assert again.run_key != request.run_key
    assert changed.cursor != same.cursor
    assert "sources unchanged (5 documents)" in _skipped(_tick(defs, instance, changed.cursor))

    # The folder is gone: no run (it would delete every document), the error is named.
    shutil.rmtree(docs)
    failed = _tick(defs, instance, changed.cursor)
    reason = _skipped(failed)
    assert "ConnectorError" in reason and "does not exist" in reason
    assert str(docs) in reason
    assert json.loads(failed.cursor)["listings"] == json.loads(changed.cursor)["listings"]

    # The first four files come back as they were: the first listing again, a new request.
    shutil.copytree(backup, docs, copy_function=shutil.copy2)
    back = _tick(defs, instance, failed.cursor)
    restored = _run_request(back)
    assert restored.run_key not in {request.run_key, again.run_key}
    assert json.loads(back.cursor)["listings"] == json.loads(first.cursor)["listings"]
    with _open(path) as project:
        assert not project.config.store_path().exists(), "the sensor never opens the store"


def test_sensor_waits_for_runs_and_syncs_and_reads_only_the_catalog(tmp_path: Path) -> None:
    from ragops.environments import promote
    from ragops.errors import StoreLockedError

    path = write_project(tmp_path / "project")
    defs = build_definitions(str(path))
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def(MAIN_JOB)

    # The run the first tick asks for builds, evaluates (gate check included) and promotes.
    first = _tick(defs, instance, None)
    request = _run_request(first)
    result = job.execute_in_process(
        instance=instance, asset_selection=request.asset_selection, tags=request.tags
    )
    assert result.success
    assert _checks(result)["gates_pass"].passed
    meta = _metadata(result)
    assert meta["docs", "index_version"]["environments"] == {}, "nothing promoted yet"
    assert meta["docs", "production"]["environments"] == {"production": 1}

    # A sensor starting afresh (no cursor) on a built index: nothing to sync, no observation.
    fresh = _tick(defs, instance, None)
    assert "sources match version 1 (4 documents), nothing to sync" in _skipped(fresh)
    assert not fresh.asset_events

    # A promotion outside Dagster is recorded as an observation of docs/production.
    with _open(path) as project:
        promote(project, "docs", 1, "staging")
    promoted = _tick(defs, instance, fresh.cursor)
    [observation] = promoted.asset_events
    assert observation.asset_key == dg.AssetKey(["docs", "production"])
    assert observation.metadata["environments"].value == {"production": 1, "staging": 1}
    assert not _tick(defs, instance, promoted.cursor).asset_events, "recorded once"

    doc = tmp_path / "project" / "docs" / "rollback.md"
    doc.write_text(doc.read_text() + "\nRollback is audited in the catalog history.\n")
    with _open(path) as holder:
        assert holder.store is not None  # holds the store's process lock, as a sync run does
        with _open(path) as other, pytest.raises(StoreLockedError):
            assert other.store is not None  # what a sensor opening the store would hit
        # A sync holding the index's lock: the sensor waits and keeps its cursor.
        with holder.lease("docs", "sync"):
            locked = _tick(defs, instance, promoted.cursor)
        assert "sources changed but sync by pid" in _skipped(locked)
        assert "holds its lock" in _skipped(locked)
        assert locked.cursor == promoted.cursor
        # A run queued or in progress: the sensor waits without listing anything.
        busy = instance.create_run_for_job(job, status=dg.DagsterRunStatus.STARTED)
        assert f"run {busy.run_id} ({MAIN_JOB}) is started" in _skipped(
            _tick(defs, instance, promoted.cursor)
        )
        instance.report_run_failed(busy)
        # Then the change is seen, with the store still locked: the sensor never opens it.
        tick = _tick(defs, instance, promoted.cursor)
        request = _run_request(tick)
    result = job.execute_in_process(
        instance=instance, asset_selection=request.asset_selection, tags=request.tags
    )
    assert result.success
    meta = _metadata(result)
    built = meta["docs", "index_version"]
    assert built["version"] == 2 and built["changed"] == 1
    assert built["environments"] == {"production": 1, "staging": 1}, "before the promotion"
    assert meta["docs", "production"]["environments"] == {"production": 2, "staging": 1}
    # The promotion was the run's own (materialization metadata): no extra observation.
    after = _tick(defs, instance, tick.cursor)
    assert "sources unchanged" in _skipped(after)
    assert not after.asset_events


def test_after_a_rollback_the_sensor_builds_and_evaluates_but_does_not_promote(
    tmp_path: Path,
) -> None:
    from ragops.environments import rollback

    path = write_project(tmp_path / "project")
    defs = build_definitions(str(path))
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def(MAIN_JOB)
    doc = tmp_path / "project" / "docs" / "rollback.md"

    def sensor_run(cursor: str | None) -> tuple[dg.ExecuteInProcessResult, str]:
        tick = _tick(defs, instance, cursor)
        request = _run_request(tick)
        result = job.execute_in_process(
            instance=instance, asset_selection=request.asset_selection, tags=request.tags
        )
        assert result.success
        return result, tick.cursor

    _, cursor = sensor_run(None)
    doc.write_text(doc.read_text() + "\nRollback is audited.\n")
    _, cursor = sensor_run(cursor)
    with _open(path) as project:
        assert _production(project) == 2
        rollback(project, "docs", reason="v2 regressed")  # holds production (the default)

    # A document edit: the sensor's run builds version 3 and evaluates it, and leaves
    # production where the operator put it, saying so.
    doc.write_text(doc.read_text() + "\nA rollback moves a pointer.\n")
    result, cursor = sensor_run(cursor)
    meta = _metadata(result)
    assert meta["docs", "index_version"]["version"] == 3
    assert meta["docs", "eval"]["version"] == 3 and "questions/recall@5" in meta["docs", "eval"]
    assert _checks(result)["gates_pass"].passed
    production = meta["docs", "production"]
    assert production["promoted"] is False
    assert production["environments"] == {"production": 1}
    assert "held by pytest since" in production["held"]["production"]
    assert "(v2 regressed)" in production["note"]
    warnings = [
        e.message
        for e in instance.all_logs(result.run_id)
        if e.level == 30 and "not promoting version 3 to production" in e.message  # WARNING
    ]
    assert warnings and "ragops release docs --env production" in warnings[0]
    with _open(path) as project:
        assert _production(project) == 1
        history = project.catalog.pointers.history(INDEX, "docs", "production")
        assert [m.action for m in history][-2:] == ["rollback", "hold"]


# -- ragops ui, end to end ----------------------------------------------------------------------

LINEAGE_QUERY = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"
LAUNCH_MAIN_JOB = (
    'mutation { launchRun(executionParams: {selector: {repositoryLocationName: "dagster_defs", '
    f'repositoryName: "__repository__", jobName: "{MAIN_JOB}"}}}}) {{ __typename '
    "... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"
)
RUN_STATUS = '{ runOrError(runId: "%s") { ... on Run { status } } }'
SENSOR_RUNS = (
    '{ runsOrError(filter: {tags: [{key: "dagster/sensor_name", value: "'
    + SOURCES_SENSOR
    + '"}]}) { ... on Runs { results { runId status } } } }'
)
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _graphql(port: int, query: str) -> dict[str, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with opener.open(request, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc), in case one left the process group."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _stop(process: subprocess.Popen[bytes]) -> set[int]:
    """Kill the whole tree (after a failed assertion); the pids killed besides ``process``."""
    stragglers = _descendants(process.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    for pid in stragglers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=30)
    return stragglers


def _as_a_background_job() -> None:
    """Start as ``ragops ui &`` from a script does: SIGINT and SIGQUIT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGQUIT, signal.SIG_IGN)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ragops_ui_serves_the_lineage(tmp_path: Path) -> None:
    path = write_project(tmp_path / "project")
    home = path.parent / ".ragops" / "dagster"  # ragops ui's default DAGSTER_HOME: data_dir/dagster
    port = _free_port()
    ragops = Path(sys.executable).with_name("ragops")
    env = dict(os.environ)
    for variable in ("RAGOPS_CONFIG", "DAGSTER_HOME", "DAGSTER_DISABLE_TELEMETRY"):
        env.pop(variable, None)
    log = (tmp_path / "ui.log").open("wb")
    process = subprocess.Popen(
        [str(ragops), "--config", str(path), "ui", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_as_a_background_job,
    )
    try:
        deadline = time.monotonic() + 90
        nodes: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "ui.log").read_text()[-3000:]
            try:
                nodes = _graphql(port, LINEAGE_QUERY)["data"]["assetNodes"]
            except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError, TypeError):
                nodes = []
            if nodes:
                break
            time.sleep(1.0)
        assert nodes, "no lineage within 90 s:\n" + (tmp_path / "ui.log").read_text()[-3000:]
        edges = {
            tuple(node["assetKey"]["path"]): {tuple(dep["path"]) for dep in node["dependencyKeys"]}
            for node in nodes
        }
        assert edges == {**LINEAGE, ("queries", "log"): set()}

        # The sources sensor runs by default: its first tick finds no version and requests a
        # run (its own process, in-process executor), which builds, evaluates and promotes.
        runs: list[dict[str, Any]] = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            runs = _graphql(port, SENSOR_RUNS)["data"]["runsOrError"]["results"]
            if runs and all(run["status"] in FINISHED for run in runs):
                break
            time.sleep(2.0)
        assert [run["status"] for run in runs] == ["SUCCESS"], (tmp_path / "ui.log").read_text()[
            -3000:
        ]

        # A run launched from the UI: nothing changed, so no new version; the sensor asks for
        # no second run.
        launched = _graphql(port, LAUNCH_MAIN_JOB)["data"]["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        status = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status = _graphql(port, RUN_STATUS % run_id)["data"]["runOrError"]["status"]
            if status in FINISHED:
                break
            time.sleep(1.0)
        assert status == "SUCCESS", (tmp_path / "ui.log").read_text()[-3000:]
        assert len(_graphql(port, SENSOR_RUNS)["data"]["runsOrError"]["results"]) == 1

        # SIGTERM to `ragops ui` alone (as a service manager sends it) stops dagster dev and
        # every process below it.
        children = _descendants(process.pid)
        assert children, "dagster dev runs the webserver and the daemon as child processes"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in children if _alive(pid)], "no process left behind"
    finally:
        _stop(process)  # whatever a failure above left running
        log.close()
    output = (tmp_path / "ui.log").read_text()
    for noise in ("SupersessionWarning", "BetaWarning", "PreviewWarning", "Traceback"):
        assert noise not in output, output[-3000:]
    with _open(path) as project:
        assert _production(project) == 1
        assert [v.number for v in project.catalog.versions.of_index("docs")] == [1]
    assert "enabled: false" in (home / "dagster.yaml").read_text(), "ragops ui turns telemetry off"


def test_the_query_log_is_an_observed_asset_that_changes_with_new_queries(tmp_path: Path) -> None:
    """``queries/log`` is observed by its sensor (no run) whenever queries were added: its
    data version changes then, and only then, and its metadata sums up the last 24 hours."""
    from dagster_defs.monitoring import QUERIES_SENSOR, QUERY_LOG_KEY
    from ragops import Retriever

    path = write_project(tmp_path / "project", public=True)
    defs = build_definitions(str(path))
    instance = dg.DagsterInstance.ephemeral()
    assert _materialize_all(defs, instance).success
    sensor = defs.resolve_sensor_def(QUERIES_SENSOR)

    def tick(cursor: str | None) -> dg.SensorResult:
        context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
        return sensor(context)  # type: ignore[return-value]

    empty = tick(None)
    [observation] = empty.asset_events
    assert observation.asset_key == QUERY_LOG_KEY
    assert observation.metadata["last_24h/queries"].value == 0

    with _open(path) as project:
        retriever = Retriever(project, "docs")
        for query in ("tomatoes", "the full moon", "rolling back"):
            retriever.search(query, k=2)
    after = tick(empty.cursor)
    [observed] = after.asset_events
    meta = {k: v.value for k, v in observed.metadata.items()}
    assert meta["last_24h/queries"] == 3 and meta["last_24h/by_index"] == {"docs": 3}
    assert meta["files"] >= 1 and meta["last_24h/p50_ms"] > 0
    assert after.cursor != empty.cursor
    assert observed.tags["dagster/data_version"] == after.cursor
    unchanged = tick(after.cursor)
    assert unchanged.asset_events == []
    assert unchanged.skip_reason is not None
    assert unchanged.skip_reason.skip_message == "no new queries"
