"""``ragops eval``: scoring versions (``eval INDEX``), reading one question by question
(``eval show INDEX``) and comparing two (``eval compare INDEX A B``)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ragops.cli.app import JsonOption, app, project_session, state, stdout_to_stderr
from ragops.cli.console import emit_json, err, errors, out, print_table

USAGE = "write `ragops eval INDEX`, `ragops eval show INDEX` or `ragops eval compare INDEX A B`"


@app.command("eval")
def eval_(
    index: Annotated[
        str,
        typer.Argument(
            metavar="INDEX", help="Index to evaluate (or: show INDEX, compare INDEX A B)"
        ),
    ],
    more: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="ARGS", help="With `show`: INDEX; with `compare`: INDEX A B", show_default=False
        ),
    ] = None,
    dataset: Annotated[str | None, typer.Option(help="Eval set name (default: all)")] = None,
    version: Annotated[
        int | None,
        typer.Option(help="Version to evaluate or show (default: the newest / newest evaluated)"),
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="With compare: metric that ranks moved questions")
    ] = None,
    failed: Annotated[
        bool, typer.Option(help="With show: only questions that errored or found no reference")
    ] = False,
    prompt: Annotated[
        str | None, typer.Option(help="Prompt version for generated answers (default: production)")
    ] = None,
    modes: Annotated[
        str | None,
        typer.Option(
            help="Score each retrieval mode, e.g. dense,sparse,hybrid (default: the index's "
            "retrieval.mode); each is stored as its own evidence",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the index's eval sets on a version and store the scores.

    `ragops eval show INDEX` lists a stored eval question by question (retrieved documents,
    the ranks its references were found at, metrics, errors). `ragops eval compare INDEX A B`
    shows the metric deltas from version A to B on every eval set and the questions that moved
    most.
    """
    if index == "compare":
        _compare(more or [], dataset, metric, as_json)
        return
    if index == "show":
        if len(more or []) != 1:
            raise typer.BadParameter(f"`ragops eval show` takes one INDEX; {USAGE}")
        _show((more or [""])[0], version, dataset, failed, as_json)
        return
    if more:
        raise typer.BadParameter(f"unexpected arguments {' '.join(more)}; {USAGE}")
    from ragops.evals.evaluate import evaluate_index
    from ragops.llm.prompts import index_prompt
    from ragops.serve.client import project_server

    mode_list = _modes(modes)
    with errors(as_json), stdout_to_stderr(as_json):
        server = project_server(state.config)
        if server is not None:  # it owns the store: it evaluates
            body = {"version": version, "dataset": dataset, "prompt": prompt, "modes": mode_list}
            runs = server.job(f"/v1/indexes/{index}/eval", body)["evals"]
        else:
            with project_session() as project:
                runs = [
                    run.to_dict()
                    for run in evaluate_index(
                        project,
                        index,
                        version=version,
                        dataset=dataset,
                        prompt=index_prompt(project, index, prompt),
                        modes=mode_list,
                    )
                ]
    if as_json:
        emit_json({"evals": runs})
        return
    for run in runs:
        _print_eval(run)


def _modes(text: str | None) -> list[str] | None:
    """``--modes dense,sparse,hybrid`` as a list (BadParameter naming an unknown mode)."""
    if text is None:
        return None
    from ragops.config.retrieval import MODES

    modes = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise typer.BadParameter(
            f"unknown mode {', '.join(unknown) or repr(text)}: use a comma-separated list of "
            f"{', '.join(MODES)}, e.g. --modes dense,sparse,hybrid"
        )
    return modes


def _show(
    index: str, version: int | None, dataset: str | None, failed: bool, as_json: bool
) -> None:
    from ragops.evals.results import eval_details

    with errors(as_json), project_session() as project:
        details = eval_details(project, index, version=version, dataset=dataset, failed=failed)
    if as_json:
        emit_json({"index": index, "version": details[0].record.version,
                   "evals": [d.to_dict() for d in details]})  # fmt: skip
        return
    for detail in details:
        _print_details(detail, failed)


def _print_details(detail: Any, failed: bool) -> None:
    record = detail.record
    k = record.k
    shown = f"{len(detail.rows)} of {detail.questions} failed" if failed else f"{detail.questions}"
    table = Table(
        title=(
            f"{record.index} v{record.version} · {record.dataset} · {shown} questions · k {k} · "
            f"eval {record.id}, {record.created_at:%Y-%m-%d %H:%M} UTC"
        ),
        caption="found at: the ranks where the question's references were retrieved",
        caption_justify="left",
    )
    table.add_column("question", ratio=3)
    table.add_column("found at", no_wrap=True)
    table.add_column(f"recall@{k}", no_wrap=True, justify="right")
    table.add_column("mrr", no_wrap=True, justify="right")
    table.add_column("retrieved (top 3 documents)", ratio=2)
    table.add_column("error", ratio=1)
    for row in detail.rows:
        ranks = row.get("hit_ranks")
        if ranks is None:
            found = "?"
        elif not row.get("references"):
            found = "(no references)"
        else:
            found = ", ".join(str(r) for r in ranks) or "[red]none[/]"
        docs = row.get("retrieved_docs") or row.get("retrieved") or []
        table.add_row(
            escape(row["question"]),
            found,
            _fmt(row.get(f"recall@{k}"), 3),
            _fmt(row.get("mrr"), 3),
            escape(", ".join(docs[:3])),
            escape(row.get("error") or ""),
        )
    print_table(table)


def _compare(args: list[str], dataset: str | None, metric: str | None, as_json: bool) -> None:
    from ragops.evals.compare import compare_versions

    if len(args) != 3 or not args[1].isdigit() or not args[2].isdigit():
        raise typer.BadParameter("write `ragops eval compare INDEX A B` with two version numbers")
    index, a, b = args[0], int(args[1]), int(args[2])
    with errors(as_json), project_session() as project:
        comparison = compare_versions(project, index, a, b, dataset=dataset, metric=metric)
    for warning in comparison.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")
    if as_json:
        emit_json(comparison.to_dict())
        return
    for item in comparison.sets:
        _print_set(index, a, b, item)
    for name, why in comparison.missing.items():
        out.print(f"{name}: not compared: {escape(why)}")


def _print_set(index: str, a: int, b: int, item: Any) -> None:
    table = Table(title=f"{index} · {item.dataset}: version {a} → {b}")
    table.add_column("metric", no_wrap=True)
    for name in (f"v{a}", f"v{b}", "delta"):
        table.add_column(name, no_wrap=True, justify="right")
    for name, row in item.metrics.items():
        delta = row["delta"]
        shown = (
            ""
            if delta is None
            else (f"[green]{delta:+.3f}[/]" if delta > 0 else f"[red]{delta:+.3f}[/]")
            if delta
            else "0"
        )
        table.add_row(name, _fmt(row["a"], 3), _fmt(row["b"], 3), shown)
    print_table(table)
    if item.moved:
        moved = Table(title=f"questions that moved most ({item.focus})")
        moved.add_column("question", ratio=1)
        for name in (f"v{a}", f"v{b}", "delta"):
            moved.add_column(name, no_wrap=True, justify="right")
        for row in item.moved:
            moved.add_row(
                escape(row["question"]), f"{row['a']:.3f}", f"{row['b']:.3f}",
                f"{row['delta']:+.3f}",
            )  # fmt: skip
        print_table(moved)


def _fmt(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _print_eval(run: dict[str, Any]) -> None:
    """One eval (``EvalRun.to_dict()``, here or from the server) as a table."""
    table = Table(
        title=f"{run['index']} v{run['version']} · {run['dataset']} · {run['retrieval']} "
        f"({run['questions']} questions, k {run['k']}, {run['seconds']:.1f} s)"
    )
    table.add_column("metric", no_wrap=True)
    table.add_column("value", justify="right")
    for name, value in run["metrics"].items():
        table.add_row(name, f"{value:.3f}")
    for name, reason in run["skipped"].items():
        table.add_row(name, f"[dim]skipped: {escape(reason)}[/]")
    print_table(table)
    if run["errors"]:
        out.print(
            f"  [red]{run['errors']} question(s) failed[/]: `ragops eval show {run['index']} "
            f"--version {run['version']} --dataset {run['dataset']} --failed`"
        )
