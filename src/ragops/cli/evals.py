"""``ragops eval`` and ``ragops eval compare``: scoring versions and comparing them."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from ragops.cli.app import JsonOption, app, project_session, stdout_to_stderr
from ragops.cli.console import emit_json, errors, print_table


@app.command("eval")
def eval_(
    index: Annotated[
        str, typer.Argument(metavar="INDEX", help="Index to evaluate (or: compare INDEX A B)")
    ],
    versions_to_compare: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="ARGS", help="With `compare`: INDEX A B; with `show`: INDEX", show_default=False
        ),
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
    from ragops.evals.evaluate import evaluate_index
    from ragops.llm.prompts import index_prompt

    if index == "compare":
        _compare(versions_to_compare or [], dataset, metric, as_json)
        return
    if versions_to_compare:
        raise typer.BadParameter(
            f"unexpected arguments {versions_to_compare}; did you mean "
            "`ragops eval compare INDEX A B`?"
        )
    with errors(as_json), stdout_to_stderr(as_json), project_session() as project:
        runs = evaluate_index(
            project,
            index,
            version=version,
            dataset=dataset,
            prompt=index_prompt(project, index, prompt),
        )
    if as_json:
        emit_json({"evals": [run.to_dict() for run in runs]})
        return
    for run in runs:
        _print_eval(run)


def _compare(args: list[str], dataset: str | None, metric: str | None, as_json: bool) -> None:
    from ragops.evals.results import compare_versions

    if len(args) != 3 or not args[1].isdigit() or not args[2].isdigit():
        raise typer.BadParameter("write `ragops eval compare INDEX A B` with two version numbers")
    index, a, b = args[0], int(args[1]), int(args[2])
    with errors(as_json), project_session() as project:
        comparison = compare_versions(project, index, a, b, dataset=dataset, metric=metric)
    if as_json:
        emit_json(comparison.to_dict())
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
    print_table(table)
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
        print_table(moved)


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
    print_table(table)
