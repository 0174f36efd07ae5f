"""How a step learns what its upstream step produced: the upstream asset's materialization
metadata from *this* run, or, when the upstream did not run in it (an automation run started
by a changed prompt), its newest materialization. A step never re-reads "the latest version"
from the catalog: a CLI sync between two steps cannot change what the next step acts on."""

from __future__ import annotations

from typing import Any

import dagster as dg

__all__ = ["candidate_from", "upstream_metadata"]


def upstream_metadata(context: Any, key: dg.AssetKey) -> dict[str, Any]:
    """The metadata values (plain Python) of ``key``'s materialization this step builds on."""
    instance: dg.DagsterInstance = context.instance
    run_id = context.run.run_id
    for entry in reversed(
        instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    ):
        materialization = entry.asset_materialization
        if materialization is not None and materialization.asset_key == key:
            return _values(materialization.metadata)
    latest = instance.get_latest_materialization_event(key)
    if latest is None or latest.asset_materialization is None:
        return {}
    return _values(latest.asset_materialization.metadata)


def candidate_from(index: str, metadata: dict[str, Any]) -> Any:
    """The pipeline Candidate an eval materialization describes, None when it evaluated nothing."""
    from ragops.pipeline import Candidate

    version = metadata.get("version")
    if not isinstance(version, int):
        return None
    prompt = metadata.get("prompt")
    return Candidate(
        index,
        version,
        prompt if prompt and prompt != "none" else None,
        metadata.get("prompt_sha256") or None,
    )


def _values(metadata: dict[str, Any]) -> dict[str, Any]:
    return {key: getattr(value, "value", value) for key, value in metadata.items()}
