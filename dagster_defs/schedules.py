"""Schedules: sync an index at fixed times (``indexes.<name>.schedule``, a cron string).

For sources the sources sensor does not watch (``watch: false``: a large web site), or to sync
on a timetable anyway. Each schedule asks for the same run the sensor would: the index's part
of ``ragops_main_job`` (its sources' listings, chunks → index_version → eval → production),
and skips while another run is queued or in progress (the embedded store is single-process).
"""

from __future__ import annotations

import dagster as dg

from dagster_defs.sensors import BUSY_STATUSES, index_asset_keys
from ragops.errors import ConfigError

__all__ = ["index_schedule", "schedule_name"]


def schedule_name(index: str) -> str:
    return f"ragops_sync_{index}"


def index_schedule(
    job: dg.UnresolvedAssetJobDefinition, index: str, sources: list[str], cron: str
) -> dg.ScheduleDefinition:
    """The schedule syncing ``index`` at ``cron`` (running by default: it was asked for)."""
    keys = index_asset_keys(index, sources)

    def _run(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        busy = context.instance.get_runs(dg.RunsFilter(statuses=BUSY_STATUSES), limit=1)
        if busy:
            run = busy[0]
            return dg.SkipReason(
                f"run {run.run_id} ({run.job_name}) is {run.status.value.lower()}: the next "
                "scheduled time will try again (one run at a time)"
            )
        return dg.RunRequest(
            asset_selection=keys,
            tags={"ragops/trigger": "schedule", "ragops/indexes": index},
        )

    try:
        return dg.ScheduleDefinition(
            name=schedule_name(index),
            cron_schedule=cron,
            job=job,
            execution_fn=_run,
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description=f"Syncs, evaluates and promotes index {index!r} at `{cron}`.",
        )
    except dg.DagsterInvalidDefinitionError as exc:
        raise ConfigError(
            f"indexes.{index}.schedule = {cron!r} is not a cron string ({exc}); write five "
            "fields, e.g. '0 * * * *' (hourly) or '30 2 * * *' (at 02:30), or @daily"
        ) from None
