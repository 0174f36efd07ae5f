"""The one place that assembles the code location: assets, checks, job, resource, executor.

``build_definitions`` reads ``ragops.yaml`` and makes, for every source ``S`` and index ``I``::

    S/documents → I/chunks → I/index_version → I/eval → I/production
                                                 └ check gates_pass (blocking)

one job, ``ragops_main_job``, materializing all of it (what ``ragops run`` does), and four
sensors: ``ragops_sources_sensor`` runs the part of that job belonging to the indexes whose
sources changed (``sensors.py``), ``ragops_prompts_sensor`` observes the prompt files,
``ragops_queries_sensor`` the query log (``queries/log``, ``monitoring.py``), and
``ragops_automation`` runs evals and promotions when versions change (``automation.py``); and a
schedule ``ragops_sync_<index>`` for each index with a ``schedule`` (``schedules.py``). Steps
run in one process (``in_process_executor``): the embedded Qdrant engine is single-process,
and a process per step costs 7-10 s here.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_defs.assets import (
    chunks_asset,
    eval_asset,
    gates_check,
    index_version_asset,
    production_asset,
    source_documents_asset,
)
from dagster_defs.automation import automation_sensor, prompt_asset, prompts_sensor
from dagster_defs.monitoring import queries_sensor, query_log_asset
from dagster_defs.resources import RagopsResource
from dagster_defs.schedules import index_schedule
from dagster_defs.sensors import SOURCES_SENSOR, sources_sensor
from ragops.llm.prompt_files import prompt_files

__all__ = ["MAIN_JOB", "SOURCES_SENSOR", "build_definitions"]

MAIN_JOB = "ragops_main_job"


def build_definitions(config_path: str | Path | None = None) -> dg.Definitions:
    """Definitions for the project of ``config_path`` (default: $RAGOPS_CONFIG, ./ragops.yaml).

    The configuration is checked fully here (connectors, their options, eval set paths), so a
    bad ``ragops.yaml`` fails when the code location loads, naming the key and the fix.
    """
    from ragops.config import find_config
    from ragops.project import Project

    path = find_config(config_path)
    project = Project.open(path)  # validates; opens neither the catalog nor the store
    try:
        config = project.config
    finally:
        project.close()

    assets: list[dg.AssetsDefinition | dg.SourceAsset] = [
        source_documents_asset(name, source.connector) for name, source in config.sources.items()
    ]
    prompts = prompt_files(config.prompts_path)
    assets += [prompt_asset(name, file) for name, file in prompts.items()]
    assets.append(query_log_asset(config.queries_path()))
    checks: list[dg.AssetChecksDefinition] = []
    for name, index in config.indexes.items():
        assets += [
            chunks_asset(name, list(index.sources)),
            index_version_asset(name),
            eval_asset(name, index.prompt),
            production_asset(name),
        ]
        checks.append(gates_check(name))

    main_job = dg.define_asset_job(
        MAIN_JOB,
        selection=dg.AssetSelection.all(),
        executor_def=dg.in_process_executor,
        description=(
            "Sync every index, evaluate its newest version and promote it to production when "
            "its gates pass: `ragops run`, one asset at a time."
        ),
    )
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[main_job],
        sensors=[
            sources_sensor(
                main_job, {name: list(index.sources) for name, index in config.indexes.items()}
            ),
            automation_sensor(),
            prompts_sensor(prompts),
            queries_sensor(config.queries_path()),
        ],
        schedules=[
            index_schedule(main_job, name, list(index.sources), index.schedule)
            for name, index in config.indexes.items()
            if index.schedule is not None
        ],
        resources={"ragops": RagopsResource(config_path=str(path))},
        executor=dg.in_process_executor,
    )
