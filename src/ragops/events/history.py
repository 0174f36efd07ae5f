"""Catching a Dagster instance up with the catalog: what ragops did before the instance existed.

The CLI and the API record their work on the project's Dagster instance only once there is
one (``ragops ui`` creates ``<data_dir>/dagster``). A project built, evaluated and promoted
from the command line first would show "Never materialized" in the UI. So before the UI
starts, :func:`record_history` replays from the catalog what the instance lacks, oldest
first, as runless events of the same assets and metadata keys the live events use:

- every version the instance has no ``index_version`` materialization of;
- every (version, prompt) eval it has no ``eval`` event of (the first of each version as a
  materialization, later ones as observations, as live evals are);
- the documents and chunks of the newest version, when the instance has no ``chunks`` event;
- every move and hold of every environment, with the gates each production promotion checked,
  when the instance has no ``production`` event of the index at all (a pointer move has no
  identity an event could carry, so it is all or nothing).

Each replayed event says so in its description and in ``recorded_from: catalog``; running it
again records nothing new.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragops.catalog import INDEX
from ragops.environments.gates import PRODUCTION
from ragops.events.describe import (
    DIGITS,
    GATES_CHECK,
    check_metadata,
    check_summary,
    eval_data_version,
    eval_metadata,
    listing_data_version,
)
from ragops.events.records import AssetEvent

if TYPE_CHECKING:  # pragma: no cover
    from ragops.catalog import Generation, PointerMove, VersionInfo
    from ragops.project import Project

__all__ = ["Replayed", "catch_up", "history_events", "record_history"]

#: The metadata of what an instance already holds for an asset key (materializations and
#: observations, oldest first).
Recorded = Callable[[tuple[str, ...]], list[dict[str, Any]]]

NOTE = "recorded from the catalog: done before this Dagster instance recorded ragops events"


@dataclass
class Replayed:
    """How many events of each asset :func:`record_history` recorded, per index."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(n for per_index in self.counts.values() for n in per_index.values())

    def describe(self) -> str:
        parts = [
            f"{index}: " + ", ".join(f"{n} {asset}" for asset, n in counts.items() if n)
            for index, counts in self.counts.items()
            if any(counts.values())
        ]
        return "; ".join(parts) or "nothing (the instance is up to date)"


def catch_up(project: Project, home: Path) -> Replayed:
    """Record on the Dagster instance in ``home`` the catalog's history it lacks."""
    from ragops.events.dagster import DagsterSink

    sink = DagsterSink(home)
    try:
        return record_history(project, sink.recorded, sink.record)
    finally:
        sink.close()


def record_history(
    project: Project, recorded: Recorded, record: Callable[[list[AssetEvent]], None]
) -> Replayed:
    """Record (``record``) the catalog's history an instance lacks (``recorded``)."""
    replayed = Replayed()
    for index in project.config.indexes:
        events = history_events(project, index, recorded)
        if events:
            record(events)
        counts = {
            "documents": 0, "chunks": 0, "index_version": 0, "eval": 0, "gates": 0, PRODUCTION: 0
        }  # fmt: skip
        for event in events:
            counts["gates" if event.kind == "check" else event.key[-1]] += 1
        replayed.counts[index] = counts
    return replayed


def history_events(project: Project, index: str, recorded: Recorded) -> list[AssetEvent]:
    """The events of ``index`` the instance lacks, in the order they happened."""
    timed: list[tuple[Any, int, AssetEvent]] = []
    known_versions = {m.get("version") for m in recorded((index, "index_version"))}
    generations = {g.id: g for g in project.catalog.generations.of_index(index)}
    versions = project.catalog.versions.of_index(index)
    for info in versions:
        if info.number not in known_versions:
            fingerprint = generations[info.generation_id].fingerprint[:12]
            timed.append((info.created_at, 0, _version_event(index, info, fingerprint)))

    known_evals = {
        (m.get("version"), m.get("prompt_sha256") or "") for m in recorded((index, "eval"))
    }
    evaluated: set[int] = {v for v, _ in known_evals if isinstance(v, int)}
    groups: dict[tuple[int, str], Any] = {}
    for record in project.catalog.evals.of_version(index):  # oldest first
        groups.setdefault((record.version, record.prompt_sha256 or ""), record)
    prompt = project.config.index(index).prompt
    for (version, prompt_sha), first in sorted(groups.items(), key=lambda item: item[1].id):
        candidate = version not in evaluated
        evaluated.add(version)
        if (version, prompt_sha) in known_evals:
            continue
        metadata = eval_metadata(project, index, version, prompt, prompt_sha or None)
        metadata["recorded_from"] = "catalog"
        timed.append(
            (
                first.created_at,
                1,
                AssetEvent(
                    (index, "eval"),
                    "materialization" if candidate else "observation",
                    metadata,
                    eval_data_version(version, prompt_sha or None) if candidate else None,
                    f"eval of version {version}, measured {first.created_at:%Y-%m-%d %H:%M} "
                    f"UTC; {NOTE}",
                ),
            )
        )

    if versions and not recorded((index, "chunks")):
        newest = versions[-1]
        timed.extend(
            (newest.created_at, -1, event)  # before the version itself, as a sync records them
            for event in _stage_events(project, index, newest, generations[newest.generation_id])
        )

    if not recorded((index, PRODUCTION)):
        served: dict[str, int] = {}
        held: dict[str, str] = {}
        for move in project.catalog.pointers.history(INDEX, index):
            gates = move.evidence.get("gates") if move.action == "promote" else None
            if move.name == PRODUCTION and gates is not None and not move.forced:
                timed.append((move.at, 2, _gates_event(index, move.to_version, gates)))
            timed.append((move.at, 3, _pointer_event(index, move, served, held)))
    timed.sort(key=lambda item: (item[0], item[1]))
    return [event for _, _, event in timed]


def _stage_events(
    project: Project, index: str, newest: VersionInfo, generation: Generation
) -> list[AssetEvent]:
    """``S/documents`` of each source and ``I/chunks``, as the newest version holds them."""
    states = project.catalog.documents.states(generation.id)
    events = []
    for source in project.config.index(index).sources:
        mine = [s for (src, _), s in states.items() if src == source]
        events.append(
            AssetEvent(
                (source, "documents"),
                "materialization",
                {"documents": len(mine), "version": newest.number, "recorded_from": "catalog"},
                listing_data_version([(s.doc_id, s.version_marker) for s in mine]),
                f"the documents of version {newest.number}; {NOTE}",
            )
        )
    events.append(
        AssetEvent(
            (index, "chunks"),
            "materialization",
            {
                "documents": newest.documents,
                "chunks": newest.chunks,
                "version": newest.number,
                "recorded_from": "catalog",
            },
            None,
            f"the chunks of version {newest.number}; {NOTE}",
        )
    )
    return events


def _gates_event(index: str, version: int, gates: list[dict[str, Any]]) -> AssetEvent:
    """The gates a promotion checked (its evidence), as a ``gates_pass`` evaluation."""
    passed = [bool(g.get("passed")) for g in gates]
    lines = ((str(g.get("eval_set")), str(g.get("gate")), str(g.get("detail"))) for g in gates)
    metadata = {**check_metadata(version, lines), "recorded_from": "catalog"}
    return AssetEvent(
        (index, "eval"),
        "check",
        metadata,
        None,
        f"{check_summary(version, passed)}, checked when it was promoted; {NOTE}",
        check=GATES_CHECK,
        passed=all(passed),
    )


def _version_event(index: str, info: VersionInfo, fingerprint: str) -> AssetEvent:
    metadata: dict[str, Any] = {
        "version": info.number,
        "generation": fingerprint,
        "documents": info.documents,
        "chunks": info.chunks,
        "created_at": info.created_at.isoformat(timespec="seconds"),
        "recorded_from": "catalog",
    }
    for name in ("embedded", "points_written", "points_closed"):
        if isinstance(info.stats.get(name), int):
            metadata[name] = info.stats[name]
    if isinstance(info.stats.get("seconds"), int | float):
        metadata["seconds"] = round(float(info.stats["seconds"]), DIGITS)
    if info.pruned_at is not None:
        metadata["pruned_at"] = info.pruned_at.isoformat(timespec="seconds")
    return AssetEvent(
        (index, "index_version"),
        "materialization",
        metadata,
        f"{fingerprint}-v{info.number}",
        f"version {info.number} built {info.created_at:%Y-%m-%d %H:%M} UTC; {NOTE}",
    )


def _pointer_event(
    index: str, move: PointerMove, served: dict[str, int], held: dict[str, str]
) -> AssetEvent:
    """The event of one history entry; ``served`` and ``held`` follow the history as it is
    replayed, so each event shows the environments as they were right after it."""
    if move.moved:
        served[move.name] = move.to_version
        verb = "promoted to" if move.action == "promote" else "rolled back to"
        note = f"{move.name} {verb} version {move.to_version} (from {move.from_version or 'none'})"
    else:
        note = f"{move.name} {'held' if move.action == 'hold' else 'released'} by {move.actor}"
        note += f" ({move.reason})" if move.reason else ""
        if move.action == "hold":
            held[move.name] = f"held by {move.actor} since {move.at:%Y-%m-%d %H:%M} UTC"
        else:
            held.pop(move.name, None)
    metadata: dict[str, Any] = {
        "version": served.get(PRODUCTION),
        "action": move.action,
        "actor": move.actor,
        "reason": move.reason,
        "forced": move.forced,
        "at": move.at.isoformat(timespec="seconds"),
        "environments": dict(sorted(served.items())),
        "held": dict(held),
        "note": note,
        "recorded_from": "catalog",
    }
    production_moved = move.moved and move.name == PRODUCTION
    return AssetEvent(
        (index, PRODUCTION),
        "materialization" if production_moved else "observation",
        metadata,
        f"v{move.to_version}" if production_moved else None,
        f"{note}, {move.at:%Y-%m-%d %H:%M} UTC; {NOTE}",
    )
