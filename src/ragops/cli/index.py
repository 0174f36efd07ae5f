"""``ragops init``, ``sync``, ``run``, ``search`` and ``ask``: building and reading indexes."""

from __future__ import annotations

import shlex
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ragops.cli.app import (
    JsonOption,
    app,
    parse_filters,
    parse_principals,
    project_session,
    state,
    stdout_to_stderr,
)
from ragops.cli.console import emit_json, err, errors, out, print_table, ragops_command
from ragops.cli.progress import progress_bars

#: ``ragops run`` exits with this status when a gate refused a promotion it was to make.
EXIT_REFUSED = 3


class SearchMode(StrEnum):
    """The retrieval modes ``--mode`` takes."""

    dense = "dense"
    sparse = "sparse"
    hybrid = "hybrid"


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(metavar="DIRECTORY", help="Folder to create the project in")
    ],
    force: Annotated[bool, typer.Option(help="Write into a folder that is not empty")] = False,
    as_json: JsonOption = False,
) -> None:
    """Scaffold a project: commented ragops.yaml, connectors/, evals/, prompts/, docs/."""
    from ragops.scaffold import scaffold_project

    with errors(as_json):
        created = scaffold_project(directory, force=force)
    if as_json:
        emit_json(
            {
                "directory": str(directory.resolve()),
                "created": [str(path.relative_to(directory)) for path in created],
                "next": f"cd {shlex.quote(str(directory))} && {ragops_command()} run",
            }
        )
        return
    out.print(f"Created a ragops project in [bold]{directory}[/]:")
    for path in created:
        out.print(f"  {path.relative_to(directory)}")
    out.print(f"\nNext: cd {shlex.quote(str(directory))} && {ragops_command()} run")


@app.command()
def sync(
    index: Annotated[
        str | None, typer.Argument(metavar="INDEX", help="Index to sync (default: all)")
    ] = None,
    as_json: JsonOption = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for another sync to finish")] = False,
    allow_mass_delete: Annotated[
        bool,
        typer.Option(
            "--allow-mass-delete",
            help="Let a listing delete more of a source than its max_delete_fraction (when the "
            "documents really are gone)",
        ),
    ] = False,
    full_listing: Annotated[
        bool,
        typer.Option(
            "--full-listing",
            help="List every source in full, ignoring the cursors connectors saved (unchanged "
            "documents are still not re-embedded)",
        ),
    ] = False,
) -> None:
    """Pull the sources and build a new version of each index that changed (through the
    project's `ragops serve` when one runs)."""
    from ragops import pipeline
    from ragops.serve.client import project_server

    with errors(as_json), stdout_to_stderr(as_json):
        server = project_server(state.config)
        if server is not None:
            results = [
                server.sync(name, allow_mass_delete=allow_mass_delete, full_listing=full_listing)
                for name in server.index_names(index)
            ]
        else:
            results = _while_locked(
                wait, not as_json,
                lambda project, bars: pipeline.sync(
                    project, index, bars, allow_mass_delete=allow_mass_delete,
                    full_listing=full_listing,
                ),
            )  # fmt: skip
    if as_json:
        emit_json({"indexes": [_sync_json(r) for r in results]})
        return
    for result in results:
        print_sync(result)


def _while_locked(wait: bool, bars_on: bool, work: Any) -> Any:
    """Run ``work(project, progress)``; with ``wait``, retry while another process holds the
    index or the embedded store, on one status line (updated in place on a terminal)."""
    from ragops.errors import IndexLockedError, StoreLockedError

    started = time.monotonic()
    status: Any = None
    told = False
    try:
        while True:
            try:
                with project_session() as project, progress_bars(bars_on) as bars:
                    if status is not None:
                        status.stop()
                        status = None
                    return work(project, bars)
            except (IndexLockedError, StoreLockedError) as exc:
                if not wait:
                    raise
                holder = getattr(exc, "holder", "") or str(exc).split(";")[0]
                line = f"waiting for {holder} ({time.monotonic() - started:.0f} s)"
                if status is not None:
                    status.update(line)
                elif err.is_terminal:
                    status = err.status(line)
                    status.start()
                elif not told:
                    err.print(f"waiting: {exc}")  # piped: once, in full
                told = True
                time.sleep(2.0)
    finally:
        if status is not None:
            status.stop()


def _sync_json(result: Any) -> dict[str, Any]:
    data = result.to_dict()
    keys = (
        "index", "version", "generation", "created_version", "documents", "chunks", "embedded",
        "reused", "points_written", "points_closed", "pruned_versions", "seconds", "quarantined",
        "timings",
    )  # fmt: skip
    return {key: data[key] for key in keys}


def print_sync(result: Any) -> None:
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


@app.command()
def run(
    index: Annotated[
        str | None, typer.Argument(metavar="INDEX", help="Index (default: all)")
    ] = None,
    query: Annotated[str | None, typer.Option(help="Sample search to show at the end")] = None,
    env: Annotated[
        list[str] | None,
        typer.Option(help="Environment to promote into (default: the index's auto_promote)"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The main job: sync, evaluate, promote when the gates pass, report.

    Exits with status 3 when a gate refused a promotion (1 on errors).
    """
    from ragops import pipeline
    from ragops.serve.client import project_server

    with errors(as_json), stdout_to_stderr(as_json):
        server = project_server(state.config)
        if server is not None:  # it owns the store: it runs the job, one index at a time
            body = {"envs": env, "query": query}
            started = time.perf_counter()
            items = [
                server.job(f"/v1/indexes/{name}/run", body)["indexes"]
                for name in server.index_names(index)
            ]
            summary = {
                "indexes": [item for each in items for item in each],
                "refused": any(item["refused"] for each in items for item in each),
                "seconds": round(time.perf_counter() - started, 3),
            }
        else:
            with project_session() as project, progress_bars(not as_json) as bars:
                summary = pipeline.run(
                    project, index, envs=env, query=query, progress=bars
                ).to_dict()
    if as_json:
        emit_json(summary)
    else:
        _print_summary(summary)
    if summary["refused"]:
        raise typer.Exit(EXIT_REFUSED)


def _print_summary(summary: dict[str, Any]) -> None:
    """What ``RunSummary.to_dict()`` holds (made here or by the server), for people."""
    from ragops.hits import Hit
    from ragops.serve.client import promotion as promotion_from
    from ragops.serve.client import sync_result

    for item in summary["indexes"]:
        sync = sync_result(item["sync"])
        print_sync(sync)
        for run_ in (item["candidate"] or {}).get("evals", []):
            metrics = run_["metrics"]
            shown = ", ".join(
                f"{name} {metrics[name]:.3f}"
                for name in ("recall@5", "mrr", "ndcg@10", "id_context_recall")
                if name in metrics
            )
            out.print(
                f"  eval {run_['dataset']} on v{run_['version']}: {shown} "
                f"({run_['questions']} questions)"
            )
        for promotion in map(promotion_from, item["promotions"]):
            if promotion.moved:
                out.print(f"  promoted version {promotion.to_version} to {promotion.env}")
            elif promotion.action == "held" and promotion.hold is not None:
                out.print(
                    f"  [yellow]not promoted to {promotion.env}:[/] it is "
                    f"{escape(promotion.hold.describe())}; it stays at version "
                    f"{promotion.from_version} (`ragops release {sync.index} --env "
                    f"{promotion.env}` ends the hold)",
                    soft_wrap=True,
                )
            else:
                out.print(f"  {promotion.env} already at version {promotion.to_version}")
        for env, why in item["refused"].items():
            out.print(f"  [red]not promoted to {env}:[/] {escape(why)}", soft_wrap=True)
        if item["note"]:
            out.print(f"  {item['note']}")
        sample = item["sample_search"]
        if sample["hits"]:
            out.print(f"\n  sample search: [italic]{sample['query']}[/]")
            print_hits([Hit(**hit) for hit in sample["hits"]])


@app.command()
def search(
    index: Annotated[str, typer.Argument(metavar="INDEX", help="Index to search")],
    query: Annotated[str, typer.Argument(metavar="QUERY", help="What to look for")],
    k: Annotated[int, typer.Option("-k", min=1, max=1000, help="Number of hits")] = 5,
    env: Annotated[str, typer.Option(help="Environment to read")] = "production",
    version: Annotated[int | None, typer.Option(help="Read this exact version instead")] = None,
    filter_: Annotated[
        list[str] | None, typer.Option("--filter", help="key=value (repeatable)")
    ] = None,
    as_: Annotated[
        list[str] | None,
        typer.Option(
            "--as",
            metavar="PRINCIPAL",
            help="Search as this principal (repeatable): only the documents its ACLs allow",
        ),
    ] = None,
    group_by: Annotated[
        str | None,
        typer.Option(
            "--group-by",
            metavar="FIELD",
            help="One hit per value of FIELD (doc_id: one per document); -k counts groups",
        ),
    ] = None,
    group_size: Annotated[
        int, typer.Option("--group-size", min=1, max=10, help="Hits per group with --group-by")
    ] = 1,
    mode: Annotated[
        SearchMode | None,
        typer.Option(help="dense, sparse (BM25) or hybrid; default: the index's retrieval.mode"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Search an index at an environment (default production) or an exact version."""
    from ragops.hits import Hit
    from ragops.retriever import Retriever
    from ragops.serve.client import project_server

    filters = parse_filters(filter_)
    principals = parse_principals(as_)
    with errors(as_json), stdout_to_stderr(as_json):
        server = project_server(state.config)
        if server is not None:  # it owns the store: ask it
            body: dict[str, Any] = {"query": query, "k": k, "env": env, "filters": filters}
            body |= {"version": version} if version is not None else {}
            body |= {"principals": principals} if principals is not None else {}
            body |= {"group_by": group_by, "group_size": group_size} if group_by else {}
            body |= {"mode": mode.value} if mode is not None else {}
            answer = server.search(index, body)
            hits = [Hit(**hit) for hit in answer["hits"]]
            served, seconds = answer["version"], answer["took_ms"] / 1000
        else:
            with project_session() as project:
                retriever = Retriever(
                    project, index, env=env, version=version, principals=principals, face="cli"
                )
                started = time.perf_counter()
                hits = retriever.search(
                    query, k=k, filters=filters, group_by=group_by, group_size=group_size,
                    mode=mode.value if mode is not None else None,
                )  # fmt: skip
                seconds = time.perf_counter() - started
                served = retriever.last_version
    if as_json:
        emit_json(
            {
                "index": index,
                "query": query,
                "version": served,
                "seconds": round(seconds, 4),
                "hits": [h.to_dict() for h in hits],
            }
        )
        return
    where = f"version {served}" if version is not None else f"{env} (version {served})"
    print_hits(hits, caption=f"{index} {where} · {len(hits)} hit{'' if len(hits) == 1 else 's'}")


def print_hits(hits: list[Any], caption: str | None = None) -> None:
    """Hits as a table: rank, score, the document with its heading path, and the text (its
    headings shown in the document column, not flattened into the text)."""
    table = Table(caption=caption, caption_justify="left", expand=out.is_terminal)
    table.add_column("#", no_wrap=True, justify="right")
    table.add_column("score", no_wrap=True)
    table.add_column("document", ratio=1)
    table.add_column("text", ratio=3)
    for rank, hit in enumerate(hits, 1):
        headings, body = hit_snippet(hit)
        where = escape(hit.doc_id) + (
            f"\n[dim]{escape(' › '.join(headings))}[/]" if headings else ""
        )
        table.add_row(str(rank), _score(hit), where, escape(body))
    print_table(table)


def _score(hit: Any) -> str:
    """The hit's score, and under a hybrid score each branch's (— where BM25 found no term)."""
    if getattr(hit, "mode", "dense") != "hybrid":
        return f"{hit.score:.3f}"
    dense = "—" if hit.dense_score is None else f"{hit.dense_score:.3f}"
    sparse = "—" if hit.sparse_score is None else f"{hit.sparse_score:.2f}"
    return f"{hit.score:.4f}\n[dim]dense {dense}\nbm25 {sparse}[/]"


def hit_snippet(hit: Any, limit: int = 240) -> tuple[list[str], str]:
    """(heading path, text without its heading lines, cut at ``limit`` characters).

    The heading path is the chunk's ``section`` metadata (markdown chunker) or the path of the
    markdown headings in its text, whichever is deeper."""
    section = str(hit.metadata.get("section") or "")
    headings = [h for h in section.split("/") if h]
    found: list[tuple[int, str]] = []  # (level, title) of the headings in the text
    lines = []
    for line in hit.text.splitlines():
        stripped = line.strip()
        level = len(stripped) - len(stripped.lstrip("#"))
        if level and stripped[level:].startswith(" "):
            found = [h for h in found if h[0] < level] + [(level, stripped[level:].strip())]
            continue
        lines.append(stripped)
    in_text = [title for _, title in found if title]
    if len(in_text) > len(headings):  # a pack that starts with its parents' headings
        headings = in_text
    body = " ".join(" ".join(lines).split())
    if len(body) > limit:
        body = body[:limit].rsplit(" ", 1)[0] + " …"
    return headings, body


@app.command()
def ask(
    index: Annotated[str, typer.Argument(metavar="INDEX", help="Index to answer from")],
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="The question")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Chunks given to the LLM")] = 5,
    env: Annotated[str, typer.Option(help="Environment to read")] = "production",
    version: Annotated[int | None, typer.Option(help="Read this exact version instead")] = None,
    prompt: Annotated[
        str | None, typer.Option(help="Prompt version: alias, v<N> or hash (default: production)")
    ] = None,
    as_: Annotated[
        list[str] | None,
        typer.Option("--as", metavar="PRINCIPAL", help="Retrieve as this principal (repeatable)"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Retrieve, render the index's prompt and ask the configured LLM (`llm:` in ragops.yaml)."""
    from ragops.llm.answers import ask as ask_llm
    from ragops.llm.prompts import index_prompt

    with errors(as_json), stdout_to_stderr(as_json), project_session() as project:
        answer = ask_llm(
            project,
            index,
            question,
            env=env,
            version=version,
            k=k,
            prompt=index_prompt(project, index, prompt),
            principals=parse_principals(as_),
            face="cli",
        )
    if as_json:
        emit_json(answer.to_dict())
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
