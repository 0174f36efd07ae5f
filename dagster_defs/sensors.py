"""The sensor that keeps every index in step with its sources.

``ragops_sources_sensor`` (running by default, every 30 s) lists the sources of every index
through the connectors, exactly as a sync does, but reads no document: a listing is
``(source, doc_id, version marker)`` per document. It requests a run of ``ragops_main_job``
for the indexes whose sources differ from what their newest version was built from: the
documents assets of their sources, then chunks → index_version → eval (gate check) →
production. One sensor for all indexes, so one tick asks for one run at most.

What it never does:

* open the vector store (only the catalog, a database, is read): the embedded store is
  single-process and a sync run holds it;
* request a run while a listing fails: a missing folder must not look like deleted documents;
* request a run while another run is queued or in progress, or while a sync holds the index's
  lease (``ragops sync`` in a terminal): it waits, leaving its cursor where it was.

It also records, as an observation of ``I/production``, the version each environment points at
whenever that changes outside a run (``ragops promote`` / ``ragops rollback`` in a terminal).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg

from dagster_defs.assets import PRODUCTION, documents_key, environments_of, index_key
from dagster_defs.resources import RagopsResource

__all__ = [
    "BUSY_STATUSES",
    "SOURCES_SENSOR",
    "index_asset_keys",
    "sources_sensor",
]

SOURCES_SENSOR = "ragops_sources_sensor"
INTERVAL_SECONDS = 30
INDEX_STEPS = ("chunks", "index_version", "eval", PRODUCTION)

# A run in one of these may hold (or is about to hold) the embedded store.
BUSY_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def index_asset_keys(index: str, sources: Iterable[str]) -> list[dg.AssetKey]:
    """What a sync of ``index`` materializes: its sources' listings, then its own steps."""
    return [documents_key(s) for s in sources] + [index_key(index, s) for s in INDEX_STEPS]


# -- listing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Listing:
    markers: dict[tuple[str, str], str]  # (source, doc_id) → version marker

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for (source, doc_id), marker in sorted(self.markers.items()):
            digest.update(f"{source}\0{doc_id}\0{marker}\n".encode())
        return digest.hexdigest()[:32]


def _list_sources(project: Any, index: str, sources: Iterable[str]) -> _Listing:
    """Every document of ``sources`` exactly as a sync of ``index`` lists it (same checks,
    from the cursors its connectors saved)."""
    from ragops.versions.plan import current_markers

    return _Listing(current_markers(project, list(sources), index))


def _built_from(
    project: Any, index: str, sources: Iterable[str]
) -> tuple[int | None, dict[tuple[str, str], str]]:
    """The newest version of ``index`` and the version markers it was built from (of the
    documents of ``sources``)."""
    latest = project.catalog.versions.latest(index)
    if latest is None:
        return None, {}
    known = project.catalog.documents.states(latest.generation_id)
    wanted = set(sources)
    return latest.number, {
        key: state.version_marker for key, state in known.items() if key[0] in wanted
    }


def _difference(listing: _Listing, built: Mapping[tuple[str, str], str]) -> str:
    new = sum(1 for key in listing.markers if key not in built)
    changed = sum(1 for key, m in listing.markers.items() if key in built and built[key] != m)
    deleted = sum(1 for key in built if key not in listing.markers)
    return f"{new} new, {changed} changed, {deleted} deleted"


def _live_sync_holder(project: Any, index: str) -> str | None:
    """Who holds the index's lease, unless it expired or its process is provably gone."""
    from ragops.catalog import index_lease

    holder = project.catalog.leases.holder(index_lease(index))
    if holder is None or not project.catalog.leases.is_live(holder):
        return None  # free, or taken over by the next sync
    return holder.describe()


# -- cursor ------------------------------------------------------------------------------------


def _read_cursor(cursor: str | None) -> dict[str, Any]:
    try:
        state = json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        state = {}
    if not isinstance(state, dict):
        state = {}
    return {
        "requests": int(state.get("requests", 0)),
        "listings": dict(state.get("listings", {})),
        "environments": dict(state.get("environments", {})),
    }


def _last_recorded_environments(instance: dg.DagsterInstance, index: str) -> Any:
    """The environments the newest event of ``I/production`` recorded (a run's
    materialization, or an event the CLI recorded: ragops.events)."""
    key = index_key(index, PRODUCTION)
    newest: tuple[float, Any] | None = None
    for records in (
        instance.fetch_materializations(key, limit=1).records,
        instance.fetch_observations(key, limit=1).records,
    ):
        for record in records:
            event = record.asset_materialization or record.asset_observation
            value = event.metadata.get("environments") if event is not None else None
            if value is not None and (newest is None or record.timestamp > newest[0]):
                newest = (record.timestamp, value.value)
    return newest[1] if newest is not None else None


# -- the sensor --------------------------------------------------------------------------------


def sources_sensor(
    job: dg.UnresolvedAssetJobDefinition, indexes: Mapping[str, list[str]]
) -> dg.SensorDefinition:
    """The sensor over ``indexes`` (index → its sources), requesting runs of ``job``."""
    indexes = {name: list(sources) for name, sources in indexes.items()}

    @dg.sensor(
        name=SOURCES_SENSOR,
        job=job,
        minimum_interval_seconds=INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Lists the sources of every index (no document is read) and requests a sync run "
            "for the indexes whose sources differ from what their newest version was built "
            "from; records environment changes made outside Dagster on <index>/production. "
            "Waits while a run is queued or in progress or a sync holds the index's lock; a "
            "source that fails to list requests nothing."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext, ragops: RagopsResource) -> dg.SensorResult:
        busy = context.instance.get_runs(dg.RunsFilter(statuses=BUSY_STATUSES), limit=1)
        if busy:
            run = busy[0]
            return dg.SensorResult(
                skip_reason=(
                    f"run {run.run_id} ({run.job_name}) is {run.status.value.lower()}: checking "
                    "again once it is over (one run at a time; the embedded store is "
                    "single-process)"
                )
            )
        state = _read_cursor(context.cursor)
        requested: list[str] = []
        notes: list[str] = []
        events: list[dg.AssetObservation] = []
        with ragops.open() as project:  # the catalog only: the store is never opened
            for index, sources in indexes.items():
                environments = environments_of(project, index)
                if state["environments"].get(index) != environments:
                    # Changed outside a run (a run's production step records it itself).
                    recorded = _last_recorded_environments(context.instance, index)
                    if recorded != environments and (environments or recorded is not None):
                        events.append(_environments_observation(index, environments))
                    state["environments"][index] = environments
                watched = [s for s in sources if project.config.sources[s].watch]
                if not watched:
                    notes.append(f"index {index!r}: none of its sources is watched (watch: false)")
                    continue
                try:
                    listing = _list_sources(project, index, watched)
                except Exception as exc:  # noqa: BLE001  (named in the skip reason)
                    notes.append(
                        f"index {index!r}: listing its sources failed, so no run was requested "
                        f"(a failed listing must not look like deleted documents): "
                        f"{exc.__class__.__name__}: {exc}"
                    )
                    continue
                fingerprint = listing.fingerprint
                if state["listings"].get(index) == fingerprint:
                    notes.append(
                        f"index {index!r}: sources unchanged ({len(listing.markers)} documents)"
                    )
                    continue
                version, built = _built_from(project, index, watched)
                if version is not None and built == listing.markers:
                    state["listings"][index] = fingerprint
                    notes.append(
                        f"index {index!r}: sources match version {version} "
                        f"({len(listing.markers)} documents), nothing to sync"
                    )
                    continue
                holder = _live_sync_holder(project, index)
                if holder is not None:
                    notes.append(
                        f"index {index!r}: sources changed but {holder} holds its lock; "
                        "checking again after it"
                    )
                    continue
                state["listings"][index] = fingerprint
                requested.append(index)
                why = "no version yet" if version is None else _difference(listing, built)
                context.log.info(f"index {index!r}: requesting a sync ({why})")
        if not requested:
            return dg.SensorResult(
                skip_reason="; ".join(notes) or "no index configured",
                cursor=json.dumps(state, sort_keys=True),
                asset_events=events,
            )
        for note in notes:
            context.log.info(note)
        state["requests"] += 1
        keys = _unique(
            key for index in requested for key in index_asset_keys(index, indexes[index])
        )
        stamp = hashlib.sha256(
            "".join(f"{i}={state['listings'][i]};" for i in sorted(requested)).encode()
        ).hexdigest()[:16]
        request = dg.RunRequest(
            # A counter as well as the listings: a listing that comes back (a file removed and
            # restored) is a new request, while a tick evaluated twice is still deduplicated.
            run_key=f"sources-{state['requests']}-{stamp}",
            asset_selection=keys,
            tags={"ragops/trigger": "source-change", "ragops/indexes": ",".join(requested)},
        )
        return dg.SensorResult(
            run_requests=[request], cursor=json.dumps(state, sort_keys=True), asset_events=events
        )

    return _sensor


def _environments_observation(index: str, environments: dict[str, int]) -> dg.AssetObservation:
    production = environments.get(PRODUCTION)
    return dg.AssetObservation(
        asset_key=index_key(index, PRODUCTION),
        description="environment pointers read from the catalog",
        metadata={
            "version": dg.MetadataValue.int(production)
            if production is not None
            else dg.MetadataValue.null(),
            "environments": dg.MetadataValue.json(environments),
        },
    )


def _unique(keys: Iterable[dg.AssetKey]) -> list[dg.AssetKey]:
    return list(dict.fromkeys(keys))
