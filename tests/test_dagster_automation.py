"""Evals run by themselves when an index version or a prompt version changes (real Dagster,
automation conditions evaluated as the RUNNING automation sensor does), and the blocking gate
decides whether the promotion step follows."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_defs.automation import AUTOMATION_SENSOR
from dagster_defs.definitions import MAIN_JOB, OBSERVE_PROMPTS_JOB, build_definitions
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

    def run(self, selection: list[dg.AssetKey] | None = None) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_job_def(MAIN_JOB)
        return job.execute_in_process(
            instance=self.instance, asset_selection=selection, raise_on_error=False
        )

    def observe_prompts(self) -> None:
        job = self.defs.resolve_job_def(OBSERVE_PROMPTS_JOB)
        assert job.execute_in_process(instance=self.instance).success

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


def test_the_automation_sensor_is_running_by_default(tmp_path: Path) -> None:
    auto = Automation(tmp_path, gates=[])
    sensor = auto.defs.resolve_sensor_def(AUTOMATION_SENSOR)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
