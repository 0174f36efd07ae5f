"""Evals run by themselves when an index version or a prompt version changes (real Dagster,
automation conditions evaluated as the RUNNING automation sensor does), and the blocking gate
decides whether the promotion step follows."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_defs.automation import AUTOMATION_SENSOR, PROMPTS_SENSOR
from dagster_defs.definitions import MAIN_JOB, build_definitions
from ragops.llm.prompts import PromptRegistry
from ragops.project import Project
from tests.conftest import write_project

EVAL = dg.AssetKey(["docs", "eval"])
PRODUCTION = dg.AssetKey(["docs", "production"])
TEMPLATE = "Context:\n{context}\n\nQuestion: {question}\nAnswer:"


class Automation:
    """A project, its Definitions and an instance, ticked like the automation sensor."""

    def __init__(self, tmp_path: Path, gates: list[str]) -> None:
        self.path = write_project(tmp_path / "p", extra_index="    prompt: answer\n", gates=gates)
        self.prompt = self.path.parent / "prompts" / "answer.txt"
        self.prompt.parent.mkdir()
        self.prompt.write_text(TEMPLATE)
        self.defs = build_definitions(str(self.path))
        self.instance = dg.DagsterInstance.ephemeral()
        self.cursor = None
        self.prompts_cursor: str | None = None

    def run(self, selection: list[dg.AssetKey] | None = None) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_job_def(MAIN_JOB)
        return job.execute_in_process(
            instance=self.instance, asset_selection=selection, raise_on_error=False
        )

    def observe_prompts(self) -> list[dg.AssetObservation]:
        """One tick of the prompts sensor; its observations recorded as the daemon does."""
        with dg.build_sensor_context(
            instance=self.instance, cursor=self.prompts_cursor, definitions=self.defs
        ) as context:
            tick = self.defs.resolve_sensor_def(PROMPTS_SENSOR).evaluate_tick(context)
        assert not tick.run_requests, "the prompts sensor launches no run"
        self.prompts_cursor = tick.cursor
        for event in tick.asset_events:
            self.instance.report_runless_asset_event(event)
        return list(tick.asset_events)

    def tick(self) -> set[dg.AssetKey]:
        result = dg.evaluate_automation_conditions(
            defs=self.defs, instance=self.instance, cursor=self.cursor
        )
        self.cursor = result.cursor
        return {key for key in (EVAL, PRODUCTION) if result.get_num_requested(key)}

    def eval_rows(self) -> list[dict]:
        with Project.open(self.path) as project:
            return [row.to_dict() for row in project.catalog.evals.of_version("docs")]

    def prompt_alias(self) -> str:
        with Project.open(self.path) as project:
            return PromptRegistry.for_project(project).get("answer", "production").sha256


def test_a_changed_prompt_reruns_the_eval_and_a_passing_gate_promotes_it(tmp_path: Path) -> None:
    auto = Automation(tmp_path, gates=["recall@5 >= 0.5"])
    assert auto.run().success
    auto.observe_prompts()
    assert auto.tick() == set(), "everything is up to date"
    evals = len(auto.eval_rows())

    auto.observe_prompts()  # unchanged content: same data version
    assert auto.tick() == set()
    assert len(auto.eval_rows()) == evals, "no new eval run for an unchanged prompt"

    first_prompt = auto.prompt_alias()
    auto.prompt.write_text(TEMPLATE + " Be brief.")
    auto.observe_prompts()
    assert auto.tick() == {EVAL}, "a new prompt version triggers the eval, with no human"
    assert auto.run([EVAL]).success
    rows = auto.eval_rows()
    assert len(rows) == evals + 1 and rows[-1]["prompt_sha256"] != first_prompt

    assert auto.tick() == {PRODUCTION}, "the gate passed: the promotion step follows"
    assert auto.run([PRODUCTION]).success
    assert auto.prompt_alias() == rows[-1]["prompt_sha256"], "the new prompt version is promoted"
    assert auto.tick() == set()


def test_a_failing_gate_stops_the_promotion_after_the_automatic_eval(tmp_path: Path) -> None:
    auto = Automation(tmp_path, gates=["recall@5 >= 0.5"])
    assert auto.run().success
    auto.observe_prompts()
    auto.tick()
    first_prompt = auto.prompt_alias()

    strict = auto.path.read_text().replace("recall@5 >= 0.5", "recall@5 >= 1.01")
    auto.path.write_text(strict)
    auto.prompt.write_text(TEMPLATE + " Cite your sources.")
    auto.observe_prompts()
    assert auto.tick() == {EVAL}
    result = auto.run([EVAL])
    checks = [e for e in result.get_asset_check_evaluations() if e.check_name == "gates_pass"]
    assert checks and not checks[0].passed
    assert auto.tick() == set(), "the blocking gate keeps the promotion step from running"
    assert auto.prompt_alias() == first_prompt


def test_the_automation_and_prompt_sensors_are_running_by_default(tmp_path: Path) -> None:
    auto = Automation(tmp_path, gates=[])
    for name in (AUTOMATION_SENSOR, PROMPTS_SENSOR):
        assert auto.defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
    assert [job.name for job in auto.defs.jobs or []] == [MAIN_JOB], "no job per observation"


def test_the_prompt_sensor_observes_a_changed_prompt_without_a_run(tmp_path: Path) -> None:
    from ragops.llm.prompt_files import content_sha256

    auto = Automation(tmp_path, gates=[])
    key = dg.AssetKey(["prompts", "answer"])
    [first] = auto.observe_prompts()
    assert first.asset_key == key
    assert first.tags["dagster/data_version"] == content_sha256(TEMPLATE)
    assert auto.observe_prompts() == [], "unchanged: nothing recorded"
    auto.prompt.write_text(TEMPLATE + " Answer in one sentence.")
    [changed] = auto.observe_prompts()
    assert changed.tags["dagster/data_version"] == content_sha256(auto.prompt.read_text())
    assert changed.metadata["short_id"].value == changed.tags["dagster/data_version"][:12]
    # A restarted sensor (no cursor) does not observe the same content again.
    auto.prompts_cursor = None
    assert auto.observe_prompts() == []
    assert not auto.instance.get_runs(), "observations only: the Runs page stays empty"
