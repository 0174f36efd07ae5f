"""The Dagster sink: asset events as runless materializations and observations.

They land in the instance's event log exactly like the events of a run, so the asset's page
lists them in its history (with their metadata and data version) and automation conditions
see them: a new ``index_version`` from ``ragops sync`` lets Dagster's automation evaluate it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragops.events.records import AssetEvent, EventSink, Markdown

if TYPE_CHECKING:  # pragma: no cover
    from ragops.config import ProjectConfig

__all__ = ["DagsterSink", "default_sink", "to_dagster_metadata"]

DATA_VERSION_TAG = "dagster/data_version"
USER_PROVIDED_TAG = "dagster/data_version_is_user_provided"


def default_sink(config: ProjectConfig) -> EventSink | None:
    """The Dagster instance of the project when there is one (``dagster.home``,
    ``$DAGSTER_HOME``, or ``<data_dir>/dagster`` once it exists), else None."""
    if not config.dagster.record_events:
        return None
    home = config.dagster_home()
    if not home.is_dir():
        return None
    return DagsterSink(home)


class DagsterSink:
    """Records events on the Dagster instance whose ``DAGSTER_HOME`` is ``home`` (opened on
    the first event, so a command that records nothing never imports Dagster)."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._instance: Any = None
        self._lock = threading.Lock()

    def record(self, events: Sequence[AssetEvent]) -> None:
        with self._lock:
            instance = self._open()
            for event in events:
                instance.report_runless_asset_event(_to_dagster(event))

    def recorded(self, key: tuple[str, ...]) -> list[dict[str, Any]]:
        """The metadata of every materialization and observation of ``key`` on the instance
        (from runs and runless events alike), as plain values."""
        import dagster as dg

        asset = dg.AssetKey(list(key))
        found: list[dict[str, Any]] = []
        with self._lock:
            instance = self._open()
            for fetch, attribute in (
                (instance.fetch_materializations, "asset_materialization"),
                (instance.fetch_observations, "asset_observation"),
            ):
                cursor = None
                while True:
                    page = fetch(asset, limit=500, cursor=cursor, ascending=True)
                    for record in page.records:
                        event = getattr(record, attribute)
                        if event is not None:
                            found.append({k: v.value for k, v in event.metadata.items()})
                    if not page.has_more:
                        break
                    cursor = page.cursor
        return found

    def _open(self) -> Any:
        import dagster as dg

        if self._instance is None:
            self._instance = dg.DagsterInstance.from_config(str(self.home))
        return self._instance

    def close(self) -> None:
        with self._lock:
            if self._instance is not None:
                self._instance.dispose()
                self._instance = None


def _to_dagster(event: AssetEvent) -> Any:
    import dagster as dg

    tags = {}
    if event.data_version is not None:
        tags = {DATA_VERSION_TAG: event.data_version, USER_PROVIDED_TAG: "true"}
    key = dg.AssetKey(list(event.key))
    metadata = to_dagster_metadata(event.metadata)
    if event.kind == "check":
        return dg.AssetCheckEvaluation(
            asset_key=key,
            check_name=event.check or "check",
            passed=bool(event.passed),
            metadata=metadata,
            description=event.description,
            blocking=True,
        )
    if event.kind == "materialization":
        return dg.AssetMaterialization(
            asset_key=key, description=event.description, metadata=metadata, tags=tags
        )
    return dg.AssetObservation(
        asset_key=key, description=event.description, metadata=metadata, tags=tags
    )


def to_dagster_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Plain metadata values as Dagster metadata values (the assets report the same)."""
    import dagster as dg

    converted: dict[str, Any] = {}
    for name, value in metadata.items():
        if isinstance(value, Markdown):
            converted[name] = dg.MetadataValue.md(str(value))
        elif value is None:
            converted[name] = dg.MetadataValue.null()
        elif isinstance(value, bool):
            converted[name] = dg.MetadataValue.bool(value)
        elif isinstance(value, int):
            converted[name] = dg.MetadataValue.int(value)
        elif isinstance(value, float):
            converted[name] = dg.MetadataValue.float(value)
        elif isinstance(value, dict | list | tuple):
            converted[name] = dg.MetadataValue.json(value)
        else:
            converted[name] = dg.MetadataValue.text(str(value))
    return converted
