"""Asset factories: one function per kind of asset, called by ``definitions.py``.

Every asset is a thin step over the ragops library (sync, eval, promote): it opens the project,
calls the library, closes the project and reports what happened as metadata. No retrieval or
sync logic lives here.

Keys read as lineage::

    <source>/documents → <index>/chunks → <index>/index_version → <index>/eval → <index>/production
                                                                       └ check gates_pass (blocking)
"""

from __future__ import annotations

import hashlib
from typing import Any

import dagster as dg

from dagster_defs.resources import RagopsResource

__all__ = [
    "SOURCES_GROUP",
    "chunks_asset",
    "environments_of",
    "eval_asset",
    "gates_check",
    "index_group",
    "index_version_asset",
    "production_asset",
    "source_documents_asset",
]

SOURCES_GROUP = "sources"
PRODUCTION = "production"


def index_group(index: str) -> str:
    """The asset group of one index (group names allow letters, digits and '_' only)."""
    return "index_" + index.replace("-", "_")


def documents_key(source: str) -> dg.AssetKey:
    return dg.AssetKey([source, "documents"])


def index_key(index: str, step: str) -> dg.AssetKey:
    return dg.AssetKey([index, step])


def _number(value: int | None) -> dg.MetadataValue:  # type: ignore[type-arg]
    return dg.MetadataValue.int(value) if value is not None else dg.MetadataValue.null()


def environments_of(project: Any, index: str) -> dict[str, int]:
    """Environment → version of ``index`` from the catalog, e.g. ``{"production": 3}``."""
    pointers = project.catalog.environments(index)
    return {name: pointers[name].version for name in sorted(pointers)}


# -- sources ---------------------------------------------------------------------------------


def source_documents_asset(source: str, connector: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=documents_key(source),
        group_name=SOURCES_GROUP,
        description=(
            f"The documents of source `{source}` (connector `{connector}`): a listing only, "
            "nothing is read or parsed. Its data version is a hash of every (doc_id, version "
            "marker) pair, so it changes exactly when a document is added, changed or removed."
        ),
    )
    def _documents(ragops: RagopsResource) -> dg.MaterializeResult:
        listing: dict[str, tuple[str, Any]] = {}
        with ragops.open() as project:
            connector_, options = project.connector_for(source)
            for document in connector_.iter_documents(source, options, project.root):
                size = document.metadata.get("bytes")  # reported by the filesystem connector
                listing.setdefault(document.doc_id, (document.version, size))  # first one wins
        digest = hashlib.sha256()
        for doc_id, (marker, _size) in sorted(listing.items()):
            digest.update(f"{doc_id}\0{marker}\n".encode())
        sizes = [size for _marker, size in listing.values() if isinstance(size, int)]
        metadata: dict[str, Any] = {
            "documents": dg.MetadataValue.int(len(listing)),
            "connector": connector,
        }
        if len(sizes) == len(listing):  # only when the connector reports every size
            metadata["bytes"] = dg.MetadataValue.int(sum(sizes))
        return dg.MaterializeResult(
            metadata=metadata, data_version=dg.DataVersion(digest.hexdigest()[:16])
        )

    return _documents


# -- indexes ---------------------------------------------------------------------------------


def chunks_asset(index: str, sources: list[str]) -> dg.AssetsDefinition:
    @dg.asset(
        key=index_key(index, "chunks"),
        deps=[documents_key(source) for source in sources],
        group_name=index_group(index),
        kinds={"parquet"},
        description=(
            f"Parsed and chunked changes of index `{index}`: lists its sources, diffs them "
            "against the catalog and parses and chunks only new or changed documents, staged "
            "on disk (Parquet) for the index_version step. What `ragops sync` does before "
            "embedding."
        ),
    )
    def _chunks(ragops: RagopsResource) -> dg.MaterializeResult:
        from ragops.staging import staging_dir, write_staged
        from ragops.sync import stage_index

        with ragops.open() as project:
            staged = stage_index(project, index)
            folder = staging_dir(project.config.data_path, index)
            write_staged(folder, staged)
        counts = staged.counts()
        metadata: dict[str, Any] = {
            name: dg.MetadataValue.int(value) for name, value in counts.items()
        }
        metadata["parse_seconds"] = dg.MetadataValue.float(round(staged.seconds, 3))
        metadata["staging"] = dg.MetadataValue.path(str(folder))
        return dg.MaterializeResult(metadata=metadata)

    return _chunks


def index_version_asset(index: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=index_key(index, "index_version"),
        deps=[index_key(index, "chunks")],
        group_name=index_group(index),
        kinds={"qdrant"},
        description=(
            f"The newest immutable version of index `{index}`: embeds the staged chunks, writes "
            "them to Qdrant and commits a new version when anything changed (no change: no new "
            "version, nothing embedded). Stale staging is ignored and the sync starts afresh."
        ),
    )
    def _index_version(ragops: RagopsResource) -> dg.MaterializeResult:
        from ragops.staging import clear_staged, read_staged, staging_dir
        from ragops.sync import sync_index

        with ragops.open() as project:
            folder = staging_dir(project.config.data_path, index)
            result = sync_index(project, index, staged=read_staged(folder))
            clear_staged(folder)
            environments = environments_of(project, index)
        data = result.to_dict()
        docs = data["documents"]
        metadata: dict[str, Any] = {
            "version": _number(result.version),
            "created_version": dg.MetadataValue.bool(result.created_version),
            "generation": result.generation,
            "collection": result.collection,
            "fingerprint": result.fingerprint,
            **{
                name: dg.MetadataValue.int(docs[name])
                for name in ("seen", "new", "changed", "deleted", "unchanged", "quarantined")
            },
            "chunks": dg.MetadataValue.int(result.chunks),
            "embedded": dg.MetadataValue.int(result.embedded),
            "points_written": dg.MetadataValue.int(result.points_written),
            "points_closed": dg.MetadataValue.int(result.points_closed),
            "seconds": dg.MetadataValue.float(data["seconds"]),
            # Which version each environment serves, next to the version just built.
            "environments": dg.MetadataValue.json(environments),
        }
        if result.quarantined:
            metadata["quarantined_documents"] = dg.MetadataValue.json(result.quarantined)
        version = f"{result.generation}-v{result.version}" if result.version else "none"
        return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(version))

    return _index_version


def eval_asset(index: str, prompt: str | None = None) -> dg.AssetsDefinition:
    from dagster_defs.automation import on_new_data_versions, prompt_key

    deps = [index_key(index, "index_version")] + ([prompt_key(prompt)] if prompt else [])

    @dg.asset(
        key=index_key(index, "eval"),
        deps=deps,
        automation_condition=on_new_data_versions(),
        group_name=index_group(index),
        description=(
            f"Retrieval evals of index `{index}`: runs its eval sets on the newest version and "
            "stores the scores in the catalog (what `ragops eval` does). Scores are numeric "
            "metadata `<eval set>/<metric>`, plotted over time. The blocking check `gates_pass` "
            "checks the index's gates against them."
        ),
    )
    def _eval(ragops: RagopsResource) -> dg.MaterializeResult:
        from ragops.evaluation import evaluate_index

        with ragops.open() as project:
            latest = project.catalog.latest_version(index)
            if latest is None:
                return dg.MaterializeResult(
                    metadata={"note": "skipped: the index has no version yet (no document indexed)"}
                )
            if not project.config.index(index).evals:
                return dg.MaterializeResult(
                    metadata={
                        "version": latest.number,
                        "note": (
                            f"skipped: index {index!r} has no eval sets (indexes.{index}.evals)"
                        ),
                    }
                )
            # The candidate prompt (its newest version) is evaluated; the production step
            # promotes it with the index version once the gates pass.
            candidate = "latest" if project.config.index(index).prompt else None
            runs = evaluate_index(project, index, version=latest.number, prompt_ref=candidate)
        prompt = runs[0].prompt if runs else None
        metadata: dict[str, Any] = {
            "version": dg.MetadataValue.int(latest.number),
            "prompt": prompt.ref if prompt is not None else "none",
        }
        for run in runs:
            report = run.report
            for metric, value in report.metrics.items():
                if isinstance(value, int | float):
                    metadata[f"{run.dataset}/{metric}"] = dg.MetadataValue.float(float(value))
            metadata[f"{run.dataset}/questions"] = dg.MetadataValue.int(len(report.samples))
            if report.skipped:
                metadata[f"{run.dataset}/skipped"] = dg.MetadataValue.json(dict(report.skipped))
            if run.usage:
                metadata[f"{run.dataset}/llm_usage"] = dg.MetadataValue.json(run.usage)
        data_version = f"v{latest.number}-" + (prompt.short_id if prompt is not None else "none")
        return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(data_version))

    return _eval


def gates_check(index: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=index_key(index, "eval"),
        name="gates_pass",
        blocking=True,
        description=(
            f"The gates of index `{index}` (indexes.{index}.gates in ragops.yaml) hold for its "
            "newest version. Blocking: when a gate fails, the production step does not run."
        ),
    )
    def _gates_pass(ragops: RagopsResource) -> dg.AssetCheckResult:
        from ragops.lifecycle import check_gates

        with ragops.open() as project:
            latest = project.catalog.latest_version(index)
            if latest is None:
                # Nothing to promote; a warning does not block (the production step notes it).
                return dg.AssetCheckResult(
                    passed=False,
                    severity=dg.AssetCheckSeverity.WARN,
                    description="the index has no version yet: nothing to gate",
                )
            results = check_gates(project, index, latest.number)
        metadata: dict[str, Any] = {"version": dg.MetadataValue.int(latest.number)}
        metadata.update({r.gate: dg.MetadataValue.text(r.detail) for r in results})
        failing = [r for r in results if not r.passed]
        if not results:
            description = "no gates configured: every version may be promoted"
        elif failing:
            description = (
                f"{len(failing)} of {len(results)} gate(s) fail on version {latest.number}"
            )
        else:
            description = f"all {len(results)} gate(s) pass on version {latest.number}"
        return dg.AssetCheckResult(passed=not failing, metadata=metadata, description=description)

    return _gates_pass


def production_asset(index: str) -> dg.AssetsDefinition:
    from dagster_defs.automation import on_new_data_versions

    @dg.asset(
        key=index_key(index, PRODUCTION),
        deps=[index_key(index, "eval")],
        automation_condition=on_new_data_versions(),
        group_name=index_group(index),
        description=(
            f"The promotion step of index `{index}`: points the `production` environment at the "
            "newest version when it is not there already. Runs only after the blocking check "
            "`gates_pass` passed, and the promotion itself checks the gates again (what "
            "`ragops promote` does); moving a pointer copies and re-embeds nothing."
        ),
    )
    def _production(ragops: RagopsResource) -> dg.MaterializeResult:
        from ragops.errors import PromotionError
        from ragops.lifecycle import check_gates, promote

        with ragops.open() as project:
            latest = project.catalog.latest_version(index)
            pointer = project.catalog.environments(index).get(PRODUCTION)
            previous = pointer.version if pointer is not None else None
            if latest is None:
                return dg.MaterializeResult(
                    metadata={
                        "version": _number(previous),
                        "previous_version": _number(previous),
                        "promoted": False,
                        "environments": dg.MetadataValue.json(environments_of(project, index)),
                        "note": "nothing to promote: the index has no version yet",
                    }
                )
            if previous == latest.number:
                gates = [r.to_dict() for r in check_gates(project, index, latest.number)]
                prompt = _promote_prompt(project, index)
                return dg.MaterializeResult(
                    metadata={
                        "version": latest.number,
                        "previous_version": previous,
                        "promoted": False,
                        "gates": dg.MetadataValue.json(gates),
                        "environments": dg.MetadataValue.json(environments_of(project, index)),
                        "note": f"production already at version {latest.number}",
                        **prompt,
                    },
                    data_version=dg.DataVersion(f"v{latest.number}-{prompt['prompt']}"),
                )
            try:
                entry = promote(project, index, latest.number, PRODUCTION)
            except PromotionError as exc:
                raise dg.Failure(description=str(exc)) from None
            prompt = _promote_prompt(project, index)
            environments = environments_of(project, index)
        gates = entry.evidence.get("gates", [])
        return dg.MaterializeResult(
            metadata={
                "version": entry.to_version,
                "previous_version": _number(entry.from_version),
                "promoted": True,
                "gates": dg.MetadataValue.json(gates),
                "environments": dg.MetadataValue.json(environments),
                "note": f"promoted version {entry.to_version} to production",
                **prompt,
            },
            data_version=dg.DataVersion(f"v{entry.to_version}-{prompt['prompt']}"),
        )

    return _production


def _promote_prompt(project: Any, index: str) -> dict[str, Any]:
    """Point the index prompt's ``production`` alias at its newest (just evaluated) version.

    Called by the production step after the gates passed; returns metadata.
    """
    name = project.config.index(index).prompt
    if name is None:
        return {"prompt": "none"}
    from ragops.prompts import PromptRegistry

    registry = PromptRegistry.for_project(project)
    registry.scan()
    latest = registry.get(name, "latest")
    move = registry.promote(
        name, latest.sha256, "production", reason="gates passed in the Dagster production step"
    )
    return {"prompt": latest.short_id, "prompt_promoted": move.action != "unchanged"}
