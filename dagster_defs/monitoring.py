"""The query log as an asset others can build on: ``queries/log`` is an observable source
asset over ``<data_dir>/queries`` (Parquet, one folder per day, written by every search and
ask: library, CLI and server). Its data version changes exactly when rows were added, so an
asset that depends on it (a drift report, a dashboard table, a training set) can run on new
queries with ``AutomationCondition.eager()`` or on a schedule.

``ragops_queries_sensor`` observes it every few minutes without launching a run; each
observation carries the last 24 hours at a glance (queries by index and kind, p50/p95
latency) as metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dagster as dg

__all__ = ["QUERIES_SENSOR", "QUERY_LOG_KEY", "query_log_asset", "queries_sensor"]

QUERY_LOG_KEY = dg.AssetKey(["queries", "log"])
QUERIES_SENSOR = "ragops_queries_sensor"
MONITORING_GROUP = "monitoring"
INTERVAL_SECONDS = 300


def query_log_asset(folder: Path) -> dg.SourceAsset:
    @dg.observable_source_asset(
        key=QUERY_LOG_KEY,
        group_name=MONITORING_GROUP,
        description=(
            f"Every search and ask of the project (query log, Parquet partitioned by day, in "
            f"{folder}): time, index, environment, version, who asked, the query (or its hash), "
            "the hits, latency split into embed / search / generate, tokens and cost. Read it "
            "with `ragops queries` or any Parquet reader (pyarrow, DuckDB, pandas)."
        ),
    )
    def _observe() -> dg.ObserveResult:
        summary, metadata = _summary(folder)
        return dg.ObserveResult(data_version=dg.DataVersion(summary), metadata=metadata)

    return _observe


def queries_sensor(folder: Path) -> dg.SensorDefinition:
    """Records an observation of ``queries/log`` when rows were added since the last one."""

    @dg.sensor(
        name=QUERIES_SENSOR,
        minimum_interval_seconds=INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Observes the query log (queries/log) when new queries were written: its data "
            "version and the last 24 hours at a glance. Launches no run."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        version, metadata = _summary(folder)
        if context.cursor == version:
            return dg.SensorResult(skip_reason="no new queries")
        return dg.SensorResult(
            asset_events=[
                dg.AssetObservation(
                    asset_key=QUERY_LOG_KEY,
                    metadata=metadata,
                    tags={"dagster/data_version": version},
                )
            ],
            cursor=version,
        )

    return _sensor


def _summary(folder: Path) -> tuple[str, dict[str, Any]]:
    """(data version, metadata) of the query log in ``folder``."""
    from ragops.queries import summarize_queries

    summary = summarize_queries(folder)
    metadata: dict[str, Any] = {
        "path": dg.MetadataValue.path(str(folder)),
        "files": dg.MetadataValue.int(summary.files),
        "bytes": dg.MetadataValue.int(summary.bytes),
        "days": dg.MetadataValue.int(summary.days),
        "newest_day": summary.newest_day or "none",
        "last_24h/queries": dg.MetadataValue.int(summary.recent),
        "last_24h/by_index": dg.MetadataValue.json(summary.recent_by_index),
        "last_24h/by_kind": dg.MetadataValue.json(summary.recent_by_kind),
    }
    for name, value in (("p50_ms", summary.recent_p50_ms), ("p95_ms", summary.recent_p95_ms)):
        if value is not None:
            metadata[f"last_24h/{name}"] = dg.MetadataValue.float(value)
    metadata["summary"] = dg.MetadataValue.text(json.dumps(summary.to_dict()))
    return summary.data_version, metadata
