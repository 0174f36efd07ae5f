"""What each step did, as the metadata of its Dagster asset: one description per asset, used
by the Dagster assets and by the events the CLI and the API record, so the UI reads the same
whichever face did the work.

Assets (``I`` an index, ``S`` a source)::

    S/documents      materialization: a sync listed the source (data version: a hash of every
                     (doc_id, version marker) pair, as the Dagster asset computes it)
    I/chunks         materialization: a sync staged the index's changes
    I/index_version  materialization: a sync built version N (data version <generation>-vN)
    I/eval           materialization: the candidate (newest version, candidate prompt) was
                     evaluated; observation: any other eval (an older version, another prompt);
                     check ``gates_pass``: the gates were checked for the candidate
    I/production     materialization: production moved (promote, rollback);
                     observation: another environment moved, or a hold was placed or released

Scores are rounded to 3 decimals; every event carries the ``version`` it is about, and eval
events carry a Markdown table of the newest versions' scores, one row per version and set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ragops.catalog import INDEX, PROMPT
from ragops.environments.gates import PRODUCTION
from ragops.events.records import AssetEvent, Markdown

if TYPE_CHECKING:  # pragma: no cover
    from ragops.catalog import DocumentState, EvalRecord, Hold
    from ragops.environments.promotion import Promotion
    from ragops.pipeline import Verdict
    from ragops.project import Project
    from ragops.versions.sync import SyncResult

__all__ = [
    "TABLE_VERSIONS",
    "environments",
    "eval_data_version",
    "eval_event",
    "eval_metadata",
    "check_metadata",
    "check_summary",
    "eval_table",
    "gate_description",
    "gate_event",
    "gate_metadata",
    "listing_data_version",
    "stage_events",
    "hold_event",
    "pointer_event",
    "production_data_version",
    "production_metadata",
    "version_event",
    "version_data_version",
    "version_metadata",
]

#: The asset check on ``I/eval`` that the gates are.
GATES_CHECK = "gates_pass"
#: Versions shown in the eval table (the newest first).
TABLE_VERSIONS = 10
#: Metrics shown in the eval table when an eval set reports them (judged ones follow).
TABLE_METRICS = ("recall@5", "mrr", "ndcg@10", "hit_rate@5", "id_context_recall")
DIGITS = 3


def environments(project: Project, index: str) -> dict[str, int]:
    """Environment → version of ``index``, e.g. ``{"production": 3}``."""
    pointers = project.catalog.pointers.of_subject(INDEX, index)
    return {name: pointer.version for name, pointer in sorted(pointers.items())}


# -- documents and chunks ----------------------------------------------------------------------


def listing_data_version(pairs: Sequence[tuple[str, str]]) -> str:
    """The data version of a source's listing: a hash of its (doc_id, version marker) pairs."""
    digest = hashlib.sha256()
    for doc_id, marker in sorted(pairs):
        digest.update(f"{doc_id}\0{marker}\n".encode())
    return digest.hexdigest()[:16]


def stage_events(project: Project, result: SyncResult) -> list[AssetEvent]:
    """What a sync listed and staged: ``S/documents`` for each source of the index (as the
    catalog now holds it) and ``I/chunks``."""
    generation = next(
        (g for g in project.catalog.generations.of_index(result.index)
         if g.fingerprint == result.fingerprint),
        None,
    )  # fmt: skip
    events = []
    if generation is not None:
        states = project.catalog.documents.states(generation.id)
        for source in project.config.index(result.index).sources:
            mine: list[DocumentState] = [s for (src, _), s in states.items() if src == source]
            events.append(
                AssetEvent(
                    (source, "documents"),
                    "materialization",
                    {
                        "documents": len(mine),
                        "quarantined": sum(s.status == "quarantined" for s in mine),
                        "connector": project.config.sources[source].connector,
                        "version": result.version,
                    },
                    listing_data_version([(s.doc_id, s.version_marker) for s in mine]),
                    f"listed by a sync of {result.index} outside Dagster",
                )
            )
    docs = result.documents
    events.append(
        AssetEvent(
            (result.index, "chunks"),
            "materialization",
            {
                "seen": docs.seen,
                "new": docs.new,
                "changed": docs.changed,
                "deleted": docs.deleted,
                "quarantined": docs.quarantined,
                "chunks": result.chunks,
                "version": result.version,
            },
            None,
            f"staged by a sync of {result.index} outside Dagster (version {result.version})",
        )
    )
    return events


# -- index_version -----------------------------------------------------------------------------


def version_metadata(result: SyncResult, environments: dict[str, int]) -> dict[str, Any]:
    """What a sync did, as ``I/index_version`` metadata."""
    docs = result.documents
    metadata: dict[str, Any] = {
        "version": result.version,
        "created_version": result.created_version,
        "generation": result.generation,
        "collection": result.collection,
        "fingerprint": result.fingerprint,
        "seen": docs.seen,
        "new": docs.new,
        "changed": docs.changed,
        "deleted": docs.deleted,
        "unchanged": docs.unchanged,
        "quarantined": docs.quarantined,
        "chunks": result.chunks,
        "embedded": result.embedded,
        "points_written": result.points_written,
        "points_closed": result.points_closed,
        "pruned_versions": list(result.pruned_versions),
        "seconds": round(result.seconds, DIGITS),
        "environments": environments,
    }
    if result.quarantined:
        metadata["quarantined_documents"] = list(result.quarantined)
    return metadata


def version_data_version(result: SyncResult) -> str:
    return f"{result.generation}-v{result.version}" if result.version else "none"


def version_event(project: Project, result: SyncResult) -> AssetEvent:
    return AssetEvent(
        (result.index, "index_version"),
        "materialization",
        version_metadata(result, environments(project, result.index)),
        version_data_version(result),
        f"version {result.version} built outside Dagster (ragops sync)",
    )


# -- eval --------------------------------------------------------------------------------------


def eval_data_version(version: int, prompt_sha256: str | None) -> str:
    return f"v{version}-{(prompt_sha256 or 'none')[:12]}"


def eval_metadata(
    project: Project,
    index: str,
    version: int,
    prompt_name: str | None,
    prompt_sha256: str | None,
) -> dict[str, Any]:
    """The scores of ``version`` with ``prompt_sha256`` on every eval set of the index (the
    newest stored eval of each), and the table of the newest versions' scores."""
    metadata: dict[str, Any] = {
        "version": version,
        "prompt": prompt_name or "none",
        "prompt_sha256": prompt_sha256 or "",
    }
    records = project.catalog.evals.of_version(index)
    for record in _newest_per_set(r for r in records if r.version == version
                                  and r.prompt_sha256 == prompt_sha256):  # fmt: skip
        for metric, value in record.metrics.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                metadata[f"{record.dataset}/{metric}"] = round(float(value), DIGITS)
        counts = record.report.get("counts") or {}
        questions = record.report.get("questions", max(counts.values(), default=None))
        if isinstance(questions, int):
            metadata[f"{record.dataset}/questions"] = questions
        metadata[f"{record.dataset}/eval_id"] = record.id
        metadata[f"{record.dataset}/k"] = record.k
        skipped = record.report.get("skipped")
        if skipped:
            metadata[f"{record.dataset}/skipped"] = dict(skipped)
        if record.usage:
            metadata[f"{record.dataset}/llm_usage"] = record.usage
    metadata["scores_by_version"] = eval_table(records, highlight=version)
    return metadata


def eval_table(records: Sequence[EvalRecord], *, highlight: int | None = None) -> Markdown:
    """A Markdown table: one row per (version, eval set) of the newest versions, newest first,
    with its main scores, its prompt version and when it was measured."""
    newest = _newest_per_set(records)
    versions = sorted({r.version for r in newest}, reverse=True)[:TABLE_VERSIONS]
    rows = [r for r in newest if r.version in versions]
    present = {m for r in rows for m in r.metrics}
    metrics = [m for m in TABLE_METRICS if m in present]
    metrics += sorted(m for m in present - set(TABLE_METRICS) if "@" not in m)
    header = ["version", "eval set", *metrics, "prompt", "measured (UTC)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for record in sorted(rows, key=lambda r: (-r.version, r.dataset)):
        label = f"**{record.version}**" if record.version == highlight else str(record.version)
        values = [
            f"{record.metrics[m]:.{DIGITS}f}" if isinstance(record.metrics.get(m), int | float)
            else "–"
            for m in metrics
        ]  # fmt: skip
        prompt = (record.prompt_sha256 or "none")[:12]
        when = record.created_at.strftime("%Y-%m-%d %H:%M")
        lines.append("| " + " | ".join([label, record.dataset, *values, prompt, when]) + " |")
    return Markdown("\n".join(lines))


def eval_event(
    project: Project,
    index: str,
    version: int,
    prompt_name: str | None,
    prompt_sha256: str | None,
    *,
    candidate: bool,
) -> AssetEvent:
    """The eval of (version, prompt): a materialization for the candidate the pipeline
    evaluated, an observation for any other eval (it must not look like a new candidate)."""
    what = "the candidate" if candidate else "an eval"
    return AssetEvent(
        (index, "eval"),
        "materialization" if candidate else "observation",
        eval_metadata(project, index, version, prompt_name, prompt_sha256),
        eval_data_version(version, prompt_sha256) if candidate else None,
        f"{what} of version {version} measured outside Dagster",
    )


def _newest_per_set(records: Any) -> list[EvalRecord]:
    newest: dict[tuple[int, str], EvalRecord] = {}
    for record in records:
        key = (record.version, record.dataset)
        if key not in newest or record.id > newest[key].id:
            newest[key] = record
    return list(newest.values())


# -- gates -------------------------------------------------------------------------------------


def check_metadata(version: int, lines: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
    """The ``gates_pass`` check's metadata: the version and one line per (eval set, gate,
    detail)."""
    metadata: dict[str, Any] = {"version": version}
    for eval_set, gate, detail in lines:
        metadata[f"{eval_set}: {gate}"] = detail
    return metadata


def check_summary(version: int, passed: Sequence[bool]) -> str:
    """How many gate checks of ``version`` failed, in a sentence."""
    failing = sum(not p for p in passed)
    if not passed:
        return "no gates configured: every version may be promoted"
    if failing:
        return f"{failing} of {len(passed)} gate check(s) fail on version {version}"
    return f"all {len(passed)} gate check(s) pass on version {version}"


def gate_metadata(verdict: Verdict) -> dict[str, Any]:
    """The gates of a verdict as the ``gates_pass`` check's metadata."""
    lines = ((g.eval_set, g.gate, g.detail) for g in verdict.gates)
    return check_metadata(verdict.candidate.version, lines)


def gate_description(verdict: Verdict) -> str:
    return check_summary(verdict.candidate.version, [g.passed for g in verdict.gates])


def gate_event(verdict: Verdict) -> AssetEvent:
    """The gates checked outside Dagster, as an evaluation of ``I/eval``'s ``gates_pass``."""
    return AssetEvent(
        (verdict.candidate.index, "eval"),
        "check",
        gate_metadata(verdict),
        None,
        f"{gate_description(verdict)} (checked outside Dagster)",
        check=GATES_CHECK,
        passed=verdict.passed,
    )


# -- production --------------------------------------------------------------------------------


def production_metadata(
    project: Project,
    index: str,
    promotions: Sequence[Promotion],
    *,
    note: str,
    candidate: int | None = None,
) -> dict[str, Any]:
    """Where the environments of ``index`` are after ``promotions``, as ``I/production``
    metadata: ``version`` is the version production serves, ``candidate`` the one the step
    was to promote (when it was a release step)."""
    served = environments(project, index)
    prompt = project.config.index(index).prompt
    prompt_sha = None
    if prompt is not None:
        alias = project.catalog.pointers.get(PROMPT, prompt, PRODUCTION)
        prompt_sha = alias.target if alias is not None else None
    metadata: dict[str, Any] = {
        "version": served.get(PRODUCTION),
        "prompt_sha256": prompt_sha or "",
        "promoted": any(p.moved for p in promotions),
        "held": _holds(project, index),
        "promotions": [p.to_dict() for p in promotions],
        "environments": served,
        "note": note,
    }
    if candidate is not None:
        metadata["candidate"] = candidate
    return metadata


def production_data_version(metadata: dict[str, Any]) -> str:
    version = metadata.get("version")
    return eval_data_version(version, metadata.get("prompt_sha256")) if version else "none"


def pointer_event(project: Project, promotion: Promotion) -> AssetEvent:
    """A promote or rollback made outside Dagster: production moving is a materialization of
    ``I/production``; another environment moving is an observation of it."""
    verb = "promoted to" if promotion.action == "promote" else "rolled back to"
    note = (
        f"{promotion.env} {verb} version {promotion.to_version} "
        f"(from {promotion.from_version or 'none'})"
    )
    metadata = production_metadata(project, promotion.index, [promotion], note=note)
    production = promotion.env == PRODUCTION
    return AssetEvent(
        (promotion.index, PRODUCTION),
        "materialization" if production else "observation",
        metadata,
        production_data_version(metadata) if production else None,
        f"{note}, outside Dagster",
    )


def hold_event(project: Project, index: str, env: str, hold: Hold, *, held: bool) -> AssetEvent:
    """A hold placed or released: an observation of ``I/production``."""
    served = environments(project, index)
    note = f"{env} {hold.describe()}" if held else f"{env} released ({hold.describe()})"
    return AssetEvent(
        (index, PRODUCTION),
        "observation",
        {
            "version": served.get(PRODUCTION),
            "held": _holds(project, index),
            "environments": served,
            "note": note,
        },
        None,
        note,
    )


def _holds(project: Project, index: str) -> dict[str, str]:
    pointers = project.catalog.pointers.of_subject(INDEX, index)
    return {name: p.hold.describe() for name, p in sorted(pointers.items()) if p.hold}
