"""Asset factories: one per step of ``ragops.pipeline``, called by ``definitions.py``.

Every asset is a thin face over one pipeline step: it opens the project, calls the step with
exactly what its upstream step produced (read from the upstream materialization of this run,
or the newest one when the upstream did not run in it), and reports the result as metadata.
No sync, eval or promotion logic lives here.

Keys read as lineage::

    <source>/documents → <index>/chunks → <index>/index_version → <index>/eval → <index>/production
                                                                       └ check gates_pass (blocking)

Dagster reads the ``context`` annotations at definition time, so this module does not use
``from __future__ import annotations``.
"""

from typing import Any

import dagster as dg

from dagster_defs.handoff import candidate_from, upstream_metadata
from dagster_defs.resources import RagopsResource
from ragops.events import describe
from ragops.events.dagster import to_dagster_metadata

__all__ = [
    "SOURCES_GROUP",
    "chunks_asset",
    "documents_key",
    "environments_of",
    "eval_asset",
    "gates_check",
    "index_group",
    "index_key",
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


def environments_of(project: Any, index: str) -> dict[str, int]:
    """Environment → version of ``index`` from the catalog, e.g. ``{"production": 3}``."""
    return describe.environments(project, index)


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
        from ragops.versions.plan import describe_source

        with ragops.open() as project:
            markers, size = describe_source(project, source)
        pairs = list(markers.items())
        metadata: dict[str, Any] = {
            "documents": dg.MetadataValue.int(len(pairs)),
            "connector": connector,
        }
        if size is not None:  # only when the connector reports every size
            metadata["bytes"] = dg.MetadataValue.int(size)
        return dg.MaterializeResult(
            metadata=metadata, data_version=dg.DataVersion(describe.listing_data_version(pairs))
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
            f"Parsed and chunked changes of index `{index}` (pipeline step `stage`): lists its "
            "sources, diffs them against the catalog and parses and chunks only new or changed "
            "documents, staged on disk (Parquet) for the index_version step."
        ),
    )
    def _chunks(ragops: RagopsResource) -> dg.MaterializeResult:
        from ragops import pipeline

        server = ragops.server()
        if server is not None:  # it owns the store (a stage recovers a dead sync's points)
            staging = server.stage(index)
        else:
            with ragops.open() as project:
                staging = pipeline.stage_to_disk(project, index)
        metadata: dict[str, Any] = {
            name: dg.MetadataValue.int(value) for name, value in staging.counts.items()
        }
        metadata["parse_seconds"] = dg.MetadataValue.float(staging.parse_seconds)
        metadata["staging"] = dg.MetadataValue.path(staging.folder)
        return dg.MaterializeResult(metadata=metadata)

    return _chunks


def index_version_asset(index: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=index_key(index, "index_version"),
        deps=[index_key(index, "chunks")],
        group_name=index_group(index),
        kinds={"qdrant"},
        description=(
            f"The newest immutable version of index `{index}` (pipeline step `build`): embeds "
            "the staged chunks, writes them to Qdrant, commits a new version when anything "
            "changed and applies retention. Stale staging is ignored and the sync starts afresh."
        ),
    )
    def _index_version(ragops: RagopsResource) -> dg.MaterializeResult:
        from ragops import pipeline

        with ragops.open() as project:
            server = ragops.server()
            if server is not None:  # it owns the store: it builds
                result = server.sync(index, staged=True)
            else:
                result = pipeline.build_staged(project, index).sync
            environments = environments_of(project, index)
        assert result is not None
        return dg.MaterializeResult(
            metadata=to_dagster_metadata(describe.version_metadata(result, environments)),
            data_version=dg.DataVersion(describe.version_data_version(result)),
        )

    return _index_version


def eval_asset(index: str, prompt: str | None = None) -> dg.AssetsDefinition:
    from dagster_defs.automation import on_new_data_versions, prompt_key

    upstream = index_key(index, "index_version")
    deps = [upstream] + ([prompt_key(prompt)] if prompt else [])

    @dg.asset(
        key=index_key(index, "eval"),
        deps=deps,
        automation_condition=on_new_data_versions(),
        group_name=index_group(index),
        description=(
            f"Evals of index `{index}` (pipeline step `evaluate`): the version index_version "
            "built, with the candidate prompt version (the prompt file as it is now), on every "
            "eval set; stored evals of the same evidence are reused. Scores are metadata "
            "`<eval set>/<metric>`. The blocking check `gates_pass` reads them."
        ),
    )
    def _eval(context: dg.AssetExecutionContext, ragops: RagopsResource) -> dg.MaterializeResult:
        from ragops import pipeline

        built_version = upstream_metadata(context, upstream).get("version")
        if not isinstance(built_version, int):
            return dg.MaterializeResult(
                metadata={"note": "skipped: the index has no version yet (no document indexed)"}
            )
        with ragops.open() as project:
            server = ragops.server()
            if server is not None:  # it owns the store: it evaluates
                candidate = server.evaluate(index, built_version)
            else:
                candidate = pipeline.evaluate(project, pipeline.Built(index, built_version))
            metadata = describe.eval_metadata(
                project, index, candidate.version, candidate.prompt_name, candidate.prompt_sha256
            )
        return dg.MaterializeResult(
            metadata=to_dagster_metadata(metadata),
            data_version=dg.DataVersion(
                describe.eval_data_version(candidate.version, candidate.prompt_sha256)
            ),
        )

    return _eval


def gates_check(index: str) -> dg.AssetChecksDefinition:
    evaluated = index_key(index, "eval")

    @dg.asset_check(
        asset=evaluated,
        name="gates_pass",
        blocking=True,
        description=(
            f"The gates of index `{index}` (indexes.{index}.gates in ragops.yaml) hold, on every "
            "eval set they apply to, for the exact version and prompt version the eval step "
            "evaluated (pipeline step `gate`). Blocking: when one fails, production does not run."
        ),
    )
    def _gates_pass(
        context: dg.AssetCheckExecutionContext, ragops: RagopsResource
    ) -> dg.AssetCheckResult:
        from ragops import pipeline

        candidate = candidate_from(index, upstream_metadata(context, evaluated))
        if candidate is None:
            return dg.AssetCheckResult(
                passed=False,
                severity=dg.AssetCheckSeverity.WARN,
                description="nothing was evaluated (the index has no version yet): nothing to gate",
            )
        with ragops.open() as project:
            verdict = pipeline.gate(project, candidate)
        return dg.AssetCheckResult(
            passed=verdict.passed,
            metadata=to_dagster_metadata(describe.gate_metadata(verdict)),
            description=describe.gate_description(verdict),
        )

    return _gates_pass


def production_asset(index: str) -> dg.AssetsDefinition:
    from dagster_defs.automation import on_new_data_versions

    evaluated = index_key(index, "eval")

    @dg.asset(
        key=index_key(index, PRODUCTION),
        deps=[evaluated],
        automation_condition=on_new_data_versions(),
        group_name=index_group(index),
        description=(
            f"The promotion step of index `{index}` (pipeline step `release`): promotes exactly "
            "the version and prompt version the eval step evaluated to each environment of "
            f"indexes.{index}.auto_promote. Runs only after the blocking check `gates_pass` "
            "passed; the promotion checks the gates again under the index's lease."
        ),
    )
    def _production(
        context: dg.AssetExecutionContext, ragops: RagopsResource
    ) -> dg.MaterializeResult:
        from ragops import pipeline
        from ragops._faults import checkpoint
        from ragops.errors import PromotionError

        candidate = candidate_from(index, upstream_metadata(context, evaluated))
        checkpoint("before_release")
        server = ragops.server()  # it owns the store (production moves its alias): it releases
        release = server.release if server is not None else None
        with ragops.open() as project:
            if candidate is None:
                metadata = describe.production_metadata(
                    project, index, [], note="nothing to promote: the index has no version yet"
                )
                return dg.MaterializeResult(metadata=to_dagster_metadata(metadata))
            promotions, refused = [], {}
            for env in project.config.index(index).auto_promote:
                try:
                    verdict = pipeline.gate(project, candidate, env)
                    promotions.append(
                        release(verdict) if release else pipeline.release(project, verdict)
                    )
                except PromotionError as exc:
                    refused[env] = str(exc)
            if refused:
                raise dg.Failure(description="; ".join(f"{e}: {why}" for e, why in refused.items()))
            held = {p.env: p.hold.describe() for p in promotions if p.hold and p.action == "held"}
            for env, hold in held.items():
                context.log.warning(
                    f"not promoting version {candidate.version} to {env}: it is {hold} "
                    f"(`ragops release {index} --env {env}` ends the hold)"
                )
            note = "; ".join(
                [f"promoted version {p.to_version} to {p.env}" for p in promotions if p.moved]
                + [f"not promoted to {env}: {hold}" for env, hold in held.items()]
            )
            metadata = describe.production_metadata(
                project, index, promotions, candidate=candidate.version,
                note=note or f"already at version {candidate.version}",
            )  # fmt: skip
        return dg.MaterializeResult(
            metadata=to_dagster_metadata(metadata),
            data_version=dg.DataVersion(describe.production_data_version(metadata)),
        )

    return _production
