"""Evals that run by themselves when an index version or a prompt version changes.

- Each prompt file in ``prompts/`` is an observable source asset ``prompts/<name>`` whose data
  version is the sha256 of its normalized content (the prompt registry's version id), observed
  every minute.
- ``<index>/eval`` depends on ``<index>/index_version`` and on the index's prompt; it runs when
  the data version of either changed: a new index version or an edited prompt. Re-materializing
  identical content (a sync that built nothing, a prompt saved unchanged) keeps the data
  version, so no eval runs.
- ``<index>/production`` runs after a new eval, once the blocking ``gates_pass`` check passed.
- ``ragops_automation`` evaluates these conditions; it is RUNNING by default (Dagster's own
  default automation sensor is STOPPED).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

__all__ = [
    "AUTOMATION_SENSOR",
    "PROMPTS_GROUP",
    "automation_sensor",
    "on_new_data_versions",
    "prompt_asset",
    "prompt_key",
]

AUTOMATION_SENSOR = "ragops_automation"
PROMPTS_GROUP = "prompts"


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
        automation_condition=dg.AutomationCondition.cron_tick_passed("* * * * *"),
    )
    def _observe() -> dg.ObserveResult:
        from ragops.llm.prompt_files import content_sha256

        text = path.read_text(encoding="utf-8")
        digest = content_sha256(text)
        return dg.ObserveResult(
            data_version=dg.DataVersion(digest),
            metadata={"sha256": digest, "short_id": digest[:12], "path": str(path)},
        )

    return _observe


def automation_sensor() -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR,
        target=dg.AssetSelection.all(include_sources=True),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description=(
            "Runs evals when an index version or a prompt version changes, and the promotion "
            "step after a passing eval (see dagster_defs/automation.py)."
        ),
    )
