"""The ``ragops`` command line (Typer + Rich).

Every command that reports something takes ``--json``: then stdout holds exactly one JSON
document and everything else (progress, logs) goes to stderr. The project is found by
``--config``, ``$RAGOPS_CONFIG`` or ``./ragops.yaml``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:  # pragma: no cover
    from ragops.project import Project

from ragops._console import emit_json as _emit_json
from ragops._console import err, out
from ragops._console import errors as _errors

app = typer.Typer(
    name="ragops",
    help="Versioned, evaluated, promotable retrieval indexes from your documents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="ragops.yaml to use (default: $RAGOPS_CONFIG, ./ragops.yaml)"
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout")]


class _State:
    config: Path | None = None


_state = _State()


@app.callback()
def _main(config: ConfigOption = None) -> None:
    _state.config = config


# -- helpers -------------------------------------------------------------------------------


@contextlib.contextmanager
def _stdout_to_stderr(active: bool) -> Iterator[None]:
    """While working in --json mode, anything a library prints goes to stderr."""
    if not active:
        yield
        return
    saved = os.dup(1)
    sys.stdout.flush()
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _open_project(config: Path | None = None) -> Project:
    from ragops.project import Project

    return Project.open(config or _state.config)


class _RichProgress:
    """Draws sync progress (parse, embed, write) as Rich bars on stderr."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def start(self, stage: str, total: int | None) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total or 0)

    def advance(self, stage: str, amount: int = 1) -> None:
        if stage in self.tasks:
            self.progress.advance(self.tasks[stage], amount)

    def grow(self, stage: str, amount: int) -> None:
        task = self.tasks.get(stage)
        if task is not None:
            current = self.progress.tasks[self.progress.task_ids.index(task)].total or 0
            self.progress.update(task, total=current + amount)


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    from ragops.sync import SyncProgress

    if not enabled or not err.is_terminal:
        yield SyncProgress()
        return
    bars = Progress(
        TextColumn("{task.description:>6}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with bars:
        yield _RichProgress(bars)


def _parse_filters(values: list[str] | None) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(
                f"--filter {item!r}: write key=value, e.g. --filter doc_id=a.md"
            )
        parsed: Any = int(value) if value.lstrip("-").isdigit() else value
        if key in filters:  # repeated key: match any of the values
            previous = filters[key]
            filters[key] = [*previous, parsed] if isinstance(previous, list) else [previous, parsed]
        else:
            filters[key] = parsed
    return filters


# -- init ----------------------------------------------------------------------------------


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the project in")],
    force: Annotated[bool, typer.Option(help="Write into a folder that is not empty")] = False,
) -> None:
    """Scaffold a project: commented ragops.yaml, connectors/, evals/, prompts/, docs/."""
    from ragops.scaffold import scaffold_project

    with _errors():
        created = scaffold_project(directory, force=force)
    out.print(f"Created a ragops project in [bold]{directory}[/]:")
    for path in created:
        out.print(f"  {path.relative_to(directory)}")
    out.print(f"\nNext: cd {directory} && ragops run")


# -- sync ----------------------------------------------------------------------------------


@app.command()
def sync(
    index: Annotated[str | None, typer.Argument(help="Index to sync (default: all)")] = None,
    as_json: JsonOption = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for another sync to finish")] = False,
) -> None:
    """Pull the sources and build a new version of each index that changed."""
    with _errors(as_json), _stdout_to_stderr(as_json):
        results = _sync(index, progress=not as_json, wait=wait)
    if as_json:
        _emit_json({"indexes": [_sync_json(r) for r in results]})
        return
    for result in results:
        _print_sync(result)


def _sync(index: str | None, progress: bool, wait: bool) -> list[Any]:
    from ragops.errors import StoreLockedError, SyncInProgressError

    while True:
        project = _open_project()
        try:
            with _progress(progress) as reporter:
                return project.sync(index, progress=reporter)
        except (SyncInProgressError, StoreLockedError) as exc:
            if not wait:
                raise
            err.print(f"[yellow]waiting:[/] {exc}")
            time.sleep(2.0)
        finally:
            project.close()


def _sync_json(result: Any) -> dict[str, Any]:
    data = result.to_dict()
    return {
        "index": data["index"],
        "version": data["version"],
        "generation": data["generation"],
        "created_version": data["created_version"],
        "documents": data["documents"],
        "chunks": data["chunks"],
        "embedded": data["embedded"],
        "reused": data["reused"],
        "points_written": data["points_written"],
        "points_closed": data["points_closed"],
        "seconds": data["seconds"],
        "quarantined": data["quarantined"],
        "timings": data["timings"],
    }


def _print_sync(result: Any) -> None:
    d = result.documents
    verb = (
        f"built version {result.version}"
        if result.created_version
        else (f"no change (version {result.version})" if result.version else "nothing indexed yet")
    )
    out.print(
        f"[bold]{result.index}[/]: {verb} in {result.seconds:.1f} s "
        f"(generation {result.generation})"
    )
    out.print(
        f"  documents: {d.seen} seen, {d.new} new, {d.changed} changed, {d.deleted} deleted, "
        f"{d.renamed} renamed, {d.unchanged} unchanged, {d.quarantined} quarantined"
    )
    out.print(
        f"  chunks: {result.chunks} in the version; {result.embedded} embedded, "
        f"{result.reused} reused, {result.points_written} points written, "
        f"{result.points_closed} closed"
    )
    if result.quarantined:
        out.print(
            f"  [yellow]{len(result.quarantined)} quarantined[/] (see `ragops quarantine "
            f"{result.index}`)"
        )


# -- search --------------------------------------------------------------------------------


@app.command()
def search(
    index: Annotated[str, typer.Argument(help="Index to search")],
    query: Annotated[str, typer.Argument(help="What to look for")],
    k: Annotated[int, typer.Option("-k", min=1, max=1000, help="Number of hits")] = 5,
    env: Annotated[str, typer.Option(help="Environment to read")] = "production",
    version: Annotated[int | None, typer.Option(help="Read this exact version instead")] = None,
    filter_: Annotated[
        list[str] | None, typer.Option("--filter", help="key=value (repeatable)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Search an index at an environment (default production) or an exact version."""
    from ragops.retriever import Retriever

    filters = _parse_filters(filter_)
    with _errors(as_json), _stdout_to_stderr(as_json):
        project = _open_project()
        try:
            retriever = Retriever(project, index, env=env, version=version)
            started = time.perf_counter()
            hits = retriever.search(query, k=k, filters=filters)
            seconds = time.perf_counter() - started
        finally:
            project.close()
    if as_json:
        _emit_json(
            {
                "index": index,
                "query": query,
                "version": hits[0].version if hits else retriever.pinned_version,
                "seconds": round(seconds, 4),
                "hits": [h.to_dict() for h in hits],
            }
        )
        return
    _print_hits(hits)


def _print_hits(hits: list[Any]) -> None:
    table = Table("#", "score", "document", "text", show_lines=False, expand=True)
    for rank, hit in enumerate(hits, 1):
        text = " ".join(hit.text.split())
        table.add_row(
            str(rank), f"{hit.score:.3f}", hit.doc_id, text[:160] + ("…" if len(text) > 160 else "")
        )
    out.print(table)
    if hits:
        out.print(f"version {hits[0].version}")


# -- ask -----------------------------------------------------------------------------------


@app.command()
def ask(
    index: Annotated[str, typer.Argument(help="Index to answer from")],
    question: Annotated[str, typer.Argument(help="The question")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Chunks given to the LLM")] = 5,
    env: Annotated[str, typer.Option(help="Environment to read")] = "production",
    version: Annotated[int | None, typer.Option(help="Read this exact version instead")] = None,
    prompt: Annotated[
        str | None, typer.Option(help="Prompt version: alias, v<N> or hash (default: production)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Retrieve, render the index's prompt and ask the configured LLM (`llm:` in ragops.yaml)."""
    from ragops.evaluation import prompt_for
    from ragops.generation import ask as ask_llm

    with _errors(as_json), _stdout_to_stderr(as_json):
        project = _open_project()
        try:
            answer = ask_llm(
                project,
                index,
                question,
                env=env,
                version=version,
                k=k,
                prompt=prompt_for(project, index, prompt),
            )
        finally:
            project.close()
    if as_json:
        _emit_json(answer.to_dict())
        return
    out.print(answer.answer)
    out.print(
        f"\n[dim]{index} v{answer.index_version} · prompt {answer.prompt_id or 'default'} · "
        f"{answer.model} · {answer.total_tokens} tokens (${answer.cost:.4f}) · "
        f"retrieval {answer.retrieval_seconds:.2f} s, "
        f"generation {answer.generation_seconds:.2f} s[/]"
    )
    for rank, hit in enumerate(answer.contexts, 1):
        out.print(f"[dim][{rank}] {hit.doc_id} ({hit.score:.3f})[/]")


# -- eval ----------------------------------------------------------------------------------


@app.command("eval")
def eval_(
    index: Annotated[str, typer.Argument(help="Index to evaluate (or: compare INDEX A B)")],
    versions_to_compare: Annotated[
        list[str] | None, typer.Argument(help="With `compare`: INDEX A B", show_default=False)
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="Eval set name (default: all)")] = None,
    version: Annotated[
        int | None, typer.Option(help="Version to evaluate (default: newest)")
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="With compare: metric that ranks moved questions")
    ] = None,
    prompt: Annotated[
        str | None, typer.Option(help="Prompt version for generated answers (default: production)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the index's eval sets on a version and store the scores.

    `ragops eval compare INDEX A B` shows the metric deltas from version A to B and the
    questions that moved most.
    """
    from ragops.evaluation import evaluate_index

    if index == "compare":
        _compare(versions_to_compare or [], dataset, metric, as_json)
        return
    if versions_to_compare:
        raise typer.BadParameter(
            f"unexpected arguments {versions_to_compare}; did you mean "
            "`ragops eval compare INDEX A B`?"
        )
    with _errors(as_json), _stdout_to_stderr(as_json):
        project = _open_project()
        try:
            runs = evaluate_index(
                project, index, version=version, dataset=dataset, prompt_ref=prompt
            )
        finally:
            project.close()
    if as_json:
        _emit_json({"evals": [run.to_dict() for run in runs]})
        return
    for run in runs:
        _print_eval(run)


def _compare(args: list[str], dataset: str | None, metric: str | None, as_json: bool) -> None:
    from ragops.eval_results import compare_versions

    if len(args) != 3 or not args[1].isdigit() or not args[2].isdigit():
        raise typer.BadParameter("write `ragops eval compare INDEX A B` with two version numbers")
    index, a, b = args[0], int(args[1]), int(args[2])
    with _errors(as_json):
        project = _open_project()
        try:
            comparison = compare_versions(project, index, a, b, dataset=dataset, metric=metric)
        finally:
            project.close()
    if as_json:
        _emit_json(comparison.to_dict())
        return
    table = Table(
        "metric",
        f"v{a}",
        f"v{b}",
        "delta",
        title=f"{index} · {comparison.dataset}: version {a} → {b}",
    )
    for name, row in comparison.metrics.items():
        delta = row["delta"]
        shown = (
            ""
            if delta is None
            else (
                f"[green]{delta:+.4f}[/]"
                if delta > 0
                else f"[red]{delta:+.4f}[/]"
                if delta < 0
                else "0"
            )
        )
        table.add_row(name, _fmt(row["a"]), _fmt(row["b"]), shown)
    out.print(table)
    if comparison.moved:
        moved = Table(
            "question",
            f"{comparison.focus} v{a}",
            f"v{b}",
            "delta",
            title="questions that moved most",
            expand=True,
        )
        for item in comparison.moved:
            moved.add_row(
                item["question"], f"{item['a']:.3f}", f"{item['b']:.3f}", f"{item['delta']:+.3f}"
            )
        out.print(moved)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _print_eval(run: Any) -> None:
    report = run.report
    table = Table(
        title=f"{run.index} v{run.version} · {run.dataset} "
        f"({len(report.samples)} questions, {report.seconds:.1f} s)"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in report.metrics.items():
        table.add_row(name, f"{value:.4f}")
    for name, reason in report.skipped.items():
        table.add_row(name, f"[dim]skipped: {reason}[/]")
    out.print(table)


# -- versions, promote, rollback, history, quarantine -----------------------------------------


@app.command()
def versions(index: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
    """List an index's versions with their generation, size and environments."""
    with _errors(as_json):
        project = _open_project()
        try:
            project.config.index(index)
            catalog = project.catalog
            pointers = catalog.environments(index)
            generations = {g.id: g for g in catalog.generations(index)}
            rows: list[dict[str, Any]] = []
            for info in catalog.versions(index):
                evals = catalog.eval_results(index, info.number)
                rows.append(
                    {
                        "version": info.number,
                        "generation": generations[info.generation_id].fingerprint[:12],
                        "created_at": info.created_at.isoformat(timespec="seconds"),
                        "documents": info.documents,
                        "chunks": info.chunks,
                        "environments": sorted(
                            n for n, p in pointers.items() if p.version == info.number
                        ),
                        "evals": {e["dataset"]: e["metrics"] for e in evals},
                        "pruned": info.pruned_at is not None,
                        "stats": info.stats,
                    }
                )
        finally:
            project.close()
    if as_json:
        _emit_json({"index": index, "versions": rows})
        return
    table = Table("version", "generation", "created", "docs", "chunks", "environments", "recall@5")
    for row in rows:
        recall = next((m.get("recall@5") for m in row["evals"].values() if "recall@5" in m), None)
        table.add_row(
            str(row["version"]),
            row["generation"],
            row["created_at"],
            str(row["documents"]),
            str(row["chunks"]),
            ", ".join(row["environments"]) or ("(pruned)" if row["pruned"] else ""),
            f"{recall:.3f}" if recall is not None else "",
        )
    out.print(table)


@app.command()
def promote(
    index: Annotated[str, typer.Argument()],
    version: Annotated[int, typer.Argument()],
    env: Annotated[str, typer.Option(help="Environment to move")] = "production",
    force: Annotated[bool, typer.Option(help="Promote even if gates fail (audited)")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (required with --force)")] = None,
) -> None:
    """Point an environment at a version, after checking the eval gates."""
    from ragops.lifecycle import promote as promote_version

    with _errors():
        project = _open_project()
        try:
            entry = promote_version(project, index, version, env, force=force, reason=reason)
        finally:
            project.close()
    previous = f"from version {entry.from_version} " if entry.from_version else ""
    out.print(
        f"{index}: {env} moved {previous}to version {entry.to_version}"
        + (" [yellow](forced)[/]" if entry.forced else "")
    )
    for gate in entry.evidence.get("gates", []):
        mark = "[green]pass[/]" if gate["passed"] else "[red]fail[/]"
        out.print(f"  {mark} {gate['gate']}: {gate['detail']}")


@app.command()
def rollback(
    index: Annotated[str, typer.Argument()],
    env: Annotated[str, typer.Option(help="Environment to move back")] = "production",
    reason: Annotated[str | None, typer.Option(help="Why (recorded in history)")] = None,
) -> None:
    """Return an environment to the version it pointed at before."""
    from ragops.lifecycle import rollback as rollback_env

    with _errors():
        project = _open_project()
        try:
            entry = rollback_env(project, index, env, reason=reason)
        finally:
            project.close()
    out.print(f"{index}: {env} rolled back from version {entry.from_version} to {entry.to_version}")


@app.command()
def history(
    index: Annotated[str, typer.Argument()],
    env: Annotated[str | None, typer.Option(help="Only this environment")] = None,
    as_json: JsonOption = False,
) -> None:
    """Every environment pointer move of an index, with who, when, why and the evidence."""
    with _errors(as_json):
        project = _open_project()
        try:
            project.config.index(index)
            entries = project.catalog.history(index, env)
        finally:
            project.close()
    rows: list[dict[str, Any]] = [
        {
            "at": e.at.isoformat(timespec="seconds"),
            "environment": e.environment,
            "action": e.action,
            "from_version": e.from_version,
            "to_version": e.to_version,
            "forced": e.forced,
            "actor": e.actor,
            "reason": e.reason,
            "evidence": e.evidence,
        }
        for e in entries
    ]
    if as_json:
        _emit_json({"index": index, "history": rows})
        return
    table = Table("at", "env", "action", "from", "to", "actor", "reason")
    for row in rows:
        action = row["action"] + (" (forced)" if row["forced"] else "")
        table.add_row(
            row["at"],
            row["environment"],
            action,
            str(row["from_version"] or ""),
            str(row["to_version"]),
            row["actor"],
            row["reason"] or "",
        )
    out.print(table)


@app.command()
def quarantine(index: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
    """Documents that could not be indexed, with the reason, per generation."""
    with _errors(as_json):
        project = _open_project()
        try:
            project.config.index(index)
            rows: list[dict[str, Any]] = []
            for generation in project.catalog.generations(index):
                for state in project.catalog.documents(
                    generation.id, status="quarantined"
                ).values():
                    rows.append(
                        {
                            "generation": generation.fingerprint[:12],
                            "source": state.source,
                            "doc_id": state.doc_id,
                            "reason": state.reason,
                            "serving_previous_chunks": bool(state.chunk_ids),
                        }
                    )
        finally:
            project.close()
    if as_json:
        _emit_json({"index": index, "quarantined": rows})
        return
    if not rows:
        out.print(f"{index}: nothing quarantined")
        return
    table = Table("source", "document", "reason", expand=True)
    for row in rows:
        table.add_row(row["source"], row["doc_id"], row["reason"])
    out.print(table)


# -- export, restore, gc ---------------------------------------------------------------------


@app.command()
def export(
    index: Annotated[str, typer.Argument()],
    path: Annotated[Path, typer.Argument(help="Folder to write the export to")],
    version: Annotated[int | None, typer.Option(help="Version (default: production)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Write a version's points (vectors included) to a folder, for `ragops restore`."""
    from dataclasses import asdict

    from ragops.portability import export_index

    with _errors(as_json):
        project = _open_project()
        try:
            summary = export_index(project, index, path, version)
        finally:
            project.close()
    if as_json:
        _emit_json(asdict(summary))
        return
    out.print(f"exported {index} version {summary.version}: {summary.points} points to {path}")


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="A folder written by `ragops export`")],
    to: Annotated[
        str | None, typer.Option("--to", help="Qdrant server URL (default: the project's store)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Rebuild an index version from an export, without re-embedding, as a new version."""
    from dataclasses import asdict

    from ragops.portability import restore_index

    with _errors(as_json):
        project = _open_project()
        try:
            summary = restore_index(project, path, store_url=to)
        finally:
            project.close()
    if as_json:
        _emit_json(asdict(summary))
        return
    out.print(
        f"restored {summary.index} version {summary.restored_from_version} as version "
        f"{summary.version}: {summary.points} points in {summary.collection}"
        + (f" on {to} (set store.url to it in ragops.yaml)" if to else "")
    )


@app.command()
def gc(index: Annotated[str, typer.Argument()], as_json: JsonOption = False) -> None:
    """Apply retention now: remove versions nothing needs any more (sync does it too)."""
    from ragops.janitor import collect_garbage

    with _errors(as_json):
        project = _open_project()
        try:
            report = collect_garbage(project, index)
        finally:
            project.close()
    if as_json:
        _emit_json(report.to_dict())
        return
    pruned = ", ".join(map(str, report.pruned)) or "nothing"
    out.print(
        f"{index}: pruned {pruned}; {report.points_deleted} points deleted; "
        f"kept {', '.join(map(str, report.retained))}"
    )


# -- run (the main job) ----------------------------------------------------------------------


@app.command()
def run(
    index: Annotated[str | None, typer.Argument(help="Index (default: all)")] = None,
    query: Annotated[str | None, typer.Option(help="Sample search to show at the end")] = None,
    env: Annotated[str, typer.Option(help="Environment to promote into")] = "production",
    as_json: JsonOption = False,
) -> None:
    """The main job: sync, evaluate each new version, promote it if its gates pass, report."""
    from ragops.jobs import run_main_job

    with _errors(as_json), _stdout_to_stderr(as_json):
        project = _open_project()
        try:
            with _progress(not as_json) as reporter:
                summary = run_main_job(project, index, env=env, query=query, progress=reporter)
        finally:
            project.close()
    if as_json:
        _emit_json(summary.to_dict())
        return
    _print_summary(summary)


def _print_summary(summary: Any) -> None:
    for item in summary.indexes:
        _print_sync(item.sync)
        for run_ in item.evals:
            metrics = run_.report.metrics
            shown = ", ".join(
                f"{name} {metrics[name]:.3f}"
                for name in ("recall@5", "mrr", "ndcg@10", "id_context_recall")
                if name in metrics
            )
            out.print(
                f"  eval {run_.dataset} on v{run_.version}: {shown} "
                f"({len(run_.report.samples)} questions)"
            )
        if item.promotion:
            out.print(f"  {item.promotion}")
        if item.sample_hits:
            out.print(f"\n  sample search: [italic]{item.sample_query}[/]")
            _print_hits(item.sample_hits)


# -- ui ------------------------------------------------------------------------------------


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1")] = 3000,
) -> None:
    """Start the Dagster UI for this project's code location (lineage, runs, evals)."""
    import subprocess

    from ragops import _offline
    from ragops.config import find_config, load_config

    with _errors():
        config_path = find_config(_state.config)
        data_path = load_config(config_path).data_path
    _offline.configure()  # no telemetry or hub access in the webserver, daemon and run workers
    env = dict(os.environ, RAGOPS_CONFIG=str(config_path))
    env.setdefault("DAGSTER_HOME", str(data_path / "dagster"))
    home = Path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    instance = home / "dagster.yaml"
    if not instance.exists():
        instance.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-m",
        "dagster_defs",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    err.print(f"Dagster UI on http://127.0.0.1:{port} (Ctrl-C to stop)")
    raise typer.Exit(subprocess.call(command, env=env))


from ragops.cli_prompts import prompts_app  # noqa: E402

app.add_typer(prompts_app, name="prompts")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
