"""Evals that run by themselves when an index version or a prompt version changes.

- Each prompt file in ``prompts/`` is an observable source asset ``prompts/<name>`` whose data
  version is the sha256 of its normalized content (the prompt registry's version id).
  ``ragops_prompts_sensor`` reads the files every 15 s and records an observation when one's
  content changed: no run is launched, so the Runs page shows only real work. (The asset's
  "Observe" button in the UI does the same as a run.)
- ``<index>/eval`` depends on ``<index>/index_version`` and on the index's prompt; it runs when
  the data version of either changed: a new index version or an edited prompt. Re-materializing
  identical content (a sync that built nothing, a prompt saved unchanged) keeps the data
  version, so no eval runs.
- ``<index>/production`` runs after a new eval, once the blocking ``gates_pass`` check passed.
- ``ragops_automation`` evaluates these conditions; it is RUNNING by default (Dagster's own
  default automation sensor is STOPPED).
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from ragops.events.dagster import DATA_VERSION_TAG, USER_PROVIDED_TAG

__all__ = [
    "AUTOMATION_SENSOR",
    "PROMPTS_GROUP",
    "PROMPTS_SENSOR",
    "automation_sensor",
    "on_new_data_versions",
    "prompt_asset",
    "prompt_key",
    "prompts_sensor",
]

AUTOMATION_SENSOR = "ragops_automation"
PROMPTS_SENSOR = "ragops_prompts_sensor"
PROMPTS_GROUP = "prompts"
PROMPTS_INTERVAL_SECONDS = 15


def prompt_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["prompts", name])


def on_new_data_versions() -> dg.AutomationCondition:
    """Run when a dependency's *data version* changed, not on every new materialization
    (``eager()`` would), and only after upstream blocking checks passed."""
    changed = dg.AutomationCondition.any_deps_match(dg.AutomationCondition.data_version_changed())
    return (
        (dg.AutomationCondition.newly_missing() | changed).since_last_handled()
        & ~dg.AutomationCondition.any_deps_missing()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
        & dg.AutomationCondition.all_deps_blocking_checks_passed()
    ).with_label("on_new_data_versions")


def prompt_asset(name: str, path: Path) -> dg.SourceAsset:
    """The prompt file ``path`` as an observable source asset versioned by its content."""

    @dg.observable_source_asset(
        key=prompt_key(name),
        group_name=PROMPTS_GROUP,
        description=(
            f"Prompt template `{name}` ({path.name}). Its data version is the content hash the "
            "prompt registry uses as version id: editing the file triggers the evals of the "
            "indexes that use it; saving it unchanged does not."
        ),
    )
    def _observe() -> dg.ObserveResult:
        digest = _digest(path)
        return dg.ObserveResult(
            data_version=dg.DataVersion(digest), metadata=_metadata(path, digest)
        )

    return _observe


def _digest(path: Path) -> str:
    from ragops.llm.prompt_files import content_sha256

    return content_sha256(path.read_text(encoding="utf-8"))


def _metadata(path: Path, digest: str) -> dict[str, str]:
    return {"sha256": digest, "short_id": digest[:12], "path": str(path)}


def _observed(instance: dg.DagsterInstance, key: dg.AssetKey) -> str | None:
    """The data version of the newest observation of ``key``."""
    for record in instance.fetch_observations(key, limit=1).records:
        observation = record.asset_observation
        if observation is not None:
            return observation.tags.get(DATA_VERSION_TAG)
    return None


def prompts_sensor(files: dict[str, Path]) -> dg.SensorDefinition:
    """Observes the prompt files ``files`` (name → path) without launching a run."""

    @dg.sensor(
        name=PROMPTS_SENSOR,
        minimum_interval_seconds=PROMPTS_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Reads every prompt file and records an observation of prompts/<name> when its "
            "content hash changed (a new prompt version): the evals of the indexes using it "
            "follow. Launches no run."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        events: list[dg.AssetObservation] = []
        notes: list[str] = []
        for name, path in sorted(files.items()):
            try:
                digest = _digest(path)
            except OSError as exc:
                notes.append(f"prompt {name!r}: cannot read {path}: {exc.strerror or exc}")
                continue
            if seen.get(name) == digest:
                continue
            seen[name] = digest
            if _observed(context.instance, prompt_key(name)) != digest:  # survives restarts
                events.append(
                    dg.AssetObservation(
                        asset_key=prompt_key(name),
                        metadata=_metadata(path, digest),
                        tags={DATA_VERSION_TAG: digest, USER_PROVIDED_TAG: "true"},
                    )
                )
        cursor = json.dumps(seen, sort_keys=True)
        if not events:
            reason = "; ".join(notes) or f"{len(files)} prompt file(s) unchanged"
            return dg.SensorResult(skip_reason=reason, cursor=cursor)
        return dg.SensorResult(asset_events=events, cursor=cursor)

    return _sensor


def automation_sensor() -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR,
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description=(
            "Runs evals when an index version or a prompt version changes, and the promotion "
            "step after a passing eval (see dagster_defs/automation.py)."
        ),
    )
