"""``ragops versions``, ``promote``, ``rollback``, ``hold``, ``release``, ``history``,
``quarantine`` and ``unlock``."""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from ragops.catalog import INDEX
from ragops.cli.app import JsonOption, app, project_session, state
from ragops.cli.console import emit_json, errors, out, print_table

#: ``ragops promote`` exits with this status when a gate refused the promotion.
EXIT_REFUSED = 3

WaitOption = Annotated[
    float,
    typer.Option("--wait", help="Seconds to wait while another operation holds the index"),
]


@app.command()
def versions(
    index: Annotated[str, typer.Argument(metavar="INDEX")], as_json: JsonOption = False
) -> None:
    """List an index's versions with their generation, size and environments."""
    with errors(as_json), project_session() as project:
        project.config.index(index)
        catalog = project.catalog
        pointers = catalog.pointers.of_subject(INDEX, index)
        generations = {g.id: g for g in catalog.generations.of_index(index)}
        rows: list[dict[str, Any]] = []
        for info in catalog.versions.of_index(index):
            evals = catalog.evals.of_version(index, info.number)
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
                    "evals": {e.dataset: e.metrics for e in evals},
                    "pruned": info.pruned_at is not None,
                    "stats": info.stats,
                }
            )
    if as_json:
        emit_json({"index": index, "versions": rows})
        return
    table = Table(title=f"{index}: {len(rows)} version{'' if len(rows) == 1 else 's'}")
    for name in ("version", "generation", "created (UTC)", "docs", "chunks"):
        table.add_column(
            name, no_wrap=True, justify="right" if name in ("docs", "chunks") else "left"
        )
    table.add_column("environments")
    table.add_column("recall@5", no_wrap=True, justify="right")
    for row in rows:
        recall = next((m.get("recall@5") for m in row["evals"].values() if "recall@5" in m), None)
        table.add_row(
            str(row["version"]),
            row["generation"],
            row["created_at"][:16].replace("T", " "),
            str(row["documents"]),
            str(row["chunks"]),
            ", ".join(row["environments"]) or ("(pruned)" if row["pruned"] else ""),
            f"{recall:.3f}" if recall is not None else "",
        )
    print_table(table)


@app.command()
def promote(
    index: Annotated[str, typer.Argument(metavar="INDEX")],
    version: Annotated[int, typer.Argument(metavar="VERSION")],
    env: Annotated[str, typer.Option(help="Environment to move")] = "production",
    prompt: Annotated[
        str | None,
        typer.Option(help="Prompt version to promote with it (alias, v<N>, hash, latest)"),
    ] = None,
    force: Annotated[bool, typer.Option(help="Promote even if gates fail (audited)")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (required with --force)")] = None,
    wait: WaitOption = 0.0,
    as_json: JsonOption = False,
) -> None:
    """Point an environment at a version, after checking the eval gates.

    Exits with status 3 when a gate refuses (1 on other errors).
    """
    from ragops.environments import promote as promote_version
    from ragops.errors import PromotionError
    from ragops.serve.client import project_server

    with errors(as_json):
        try:
            server = project_server(state.config)
            if server is not None:  # it owns the store (and the alias): ask it
                promotion = server.promotion(index, "promote", {
                    "version": version, "env": env, "prompt": prompt, "force": force,
                    "reason": reason,
                })  # fmt: skip
            else:
                with project_session() as project:
                    promotion = promote_version(
                        project, index, version, env, prompt=prompt, force=force,
                        reason=reason, wait=wait,
                    )  # fmt: skip
        except PromotionError as exc:
            _refused(exc, as_json)
    if as_json:
        emit_json(promotion.to_dict())
        return
    if not promotion.moved:
        out.print(f"{index}: {env} already at version {version}; nothing recorded")
        return
    forced = " [yellow](forced)[/]" if promotion.forced else ""
    if promotion.from_version == promotion.to_version:
        out.print(f"{index}: {env} already at version {version}{forced}")
    else:
        previous = f"from version {promotion.from_version} " if promotion.from_version else ""
        out.print(f"{index}: {env} moved {previous}to version {promotion.to_version}{forced}")
    prompt_move = promotion.prompt
    if prompt_move and prompt_move.get("from") != prompt_move.get("to"):
        start = (prompt_move.get("from") or "none")[:12]
        out.print(f"  prompt {prompt_move['name']} {env}: {start} → {prompt_move['to'][:12]}")
    for gate in promotion.gates:
        mark = "[green]pass[/]" if gate.passed else "[red]fail[/]"
        detail = escape(f"{gate.gate} [{gate.eval_set}]: {gate.detail}")
        out.print(f"  {mark} {detail}", soft_wrap=True)
    if promotion.hold is not None:
        out.print(f"  released the hold ({promotion.hold.describe()}): automation may move it")


def _refused(exc: Exception, as_json: bool) -> NoReturn:
    """A refused promotion: its message (and a JSON error), exit status 3."""
    from ragops.cli.console import err

    if as_json:
        gates = [g.to_dict() for g in getattr(exc, "gates", [])]
        emit_json({"error": {"type": exc.__class__.__name__, "message": str(exc), "gates": gates}})
    err.print(f"[bold red]refused:[/] {escape(str(exc))}", soft_wrap=True)
    raise typer.Exit(EXIT_REFUSED)


@app.command()
def rollback(
    index: Annotated[str, typer.Argument(metavar="INDEX")],
    env: Annotated[str, typer.Option(help="Environment to move back")] = "production",
    reason: Annotated[str | None, typer.Option(help="Why (recorded in history)")] = None,
    hold: Annotated[
        bool,
        typer.Option(
            "--hold/--no-hold",
            help="Hold the environment against automatic promotion afterwards",
        ),
    ] = True,
    wait: WaitOption = 0.0,
    as_json: JsonOption = False,
) -> None:
    """Return an environment to the version it pointed at before its latest promotion.

    The environment is then held: `ragops run` and Dagster build and evaluate new versions but
    do not promote them into it until `ragops release` (or a manual `ragops promote`).
    """
    from ragops.environments import rollback as rollback_env
    from ragops.serve.client import project_server

    with errors(as_json):
        server = project_server(state.config)
        if server is not None:  # it owns the store (and the alias): ask it
            body = {"env": env, "reason": reason, "hold": hold}
            promotion = server.promotion(index, "rollback", body)
        else:
            with project_session() as project:
                promotion = rollback_env(project, index, env, reason=reason, wait=wait, hold=hold)
    if as_json:
        emit_json(promotion.to_dict())
        return
    out.print(
        f"{index}: {env} rolled back from version {promotion.from_version} to "
        f"{promotion.to_version}"
    )
    if promotion.prompt:
        out.print(
            f"  prompt {promotion.prompt['name']} rolled back to {promotion.prompt['to'][:12]}"
        )
    if promotion.hold is not None:
        out.print(
            f"  {env} is {promotion.hold.describe()}: automation will not promote into it; "
            f"`ragops release {index} --env {env}` ends the hold"
        )


@app.command("hold")
def hold_env(
    index: Annotated[str, typer.Argument(metavar="INDEX")],
    env: Annotated[str, typer.Option(help="Environment to hold")] = "production",
    reason: Annotated[str | None, typer.Option(help="Why (recorded in history)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Hold an environment against automatic promotion (`ragops run`, Dagster)."""
    from ragops.environments import hold

    with errors(as_json), project_session() as project:
        placed = hold(project, index, env, reason=reason)
        current = project.catalog.pointers.get(INDEX, index, env)
    in_place = current.hold if current is not None else None
    if as_json:
        emit_json(
            {
                "index": index,
                "env": env,
                "changed": placed is not None,
                "hold": _hold_dict(in_place),
            }
        )
        return
    if placed is None:
        assert in_place is not None
        out.print(f"{index}: {env} is already {in_place.describe()}; nothing recorded")
    else:
        out.print(
            f"{index}: {env} is {placed.describe()}; `ragops release {index} --env {env}` "
            "ends the hold"
        )


@app.command("release")
def release_env(
    index: Annotated[str, typer.Argument(metavar="INDEX")],
    env: Annotated[str, typer.Option(help="Environment to release")] = "production",
    reason: Annotated[str | None, typer.Option(help="Why (recorded in history)")] = None,
    as_json: JsonOption = False,
) -> None:
    """End the hold on an environment: automation may promote into it again."""
    from ragops.environments import release

    with errors(as_json), project_session() as project:
        released = release(project, index, env, reason=reason)
    if as_json:
        emit_json(
            {"index": index, "env": env, "changed": released is not None,
             "released": _hold_dict(released)}
        )  # fmt: skip
        return
    if released is None:
        out.print(f"{index}: {env} is not held; nothing recorded")
    else:
        out.print(f"{index}: released {env} ({released.describe()}); automation may promote again")


def _hold_dict(hold: Any) -> dict[str, Any] | None:
    return hold.to_dict() if hold is not None else None


@app.command()
def history(
    index: Annotated[str, typer.Argument(metavar="INDEX")],
    env: Annotated[str | None, typer.Option(help="Only this environment")] = None,
    as_json: JsonOption = False,
) -> None:
    """Every environment pointer move of an index, with who, when, why and the evidence."""
    with errors(as_json), project_session() as project:
        project.config.index(index)
        entries = project.catalog.pointers.history(INDEX, index, env)
    rows = [e.to_dict() for e in entries]
    if as_json:
        emit_json({"index": index, "history": rows})
        return
    table = Table(title=f"{index}: environment history (UTC)")
    for name in ("at", "env", "action", "from", "to", "actor"):
        table.add_column(name, no_wrap=True)
    table.add_column("reason")
    table.add_column("evidence")
    for row in rows:
        action = row["action"] + (" (forced)" if row["forced"] else "")
        gates = row["evidence"].get("gates") or []
        sets = sorted({g.get("eval_set", "?") for g in gates})
        failing = sum(1 for g in gates if not g.get("passed"))
        evidence = (
            f"{len(gates)} gate checks on {', '.join(sets)}"
            + (f", {failing} failed" if failing else "")
            if gates
            else ""
        )
        moved = row["action"] in ("promote", "rollback")
        table.add_row(
            row["at"][:19].replace("T", " "),
            row["environment"],
            action,
            str(row["from_version"] or "") if moved else "",
            str(row["to_version"]) if moved else f"(at {row['to_version']})",
            row["actor"],
            escape(row["reason"] or ""),
            evidence,
        )
    print_table(table)


@app.command()
def quarantine(
    index: Annotated[str, typer.Argument(metavar="INDEX")], as_json: JsonOption = False
) -> None:
    """Documents that could not be indexed, with the reason, per generation."""
    with errors(as_json), project_session() as project:
        project.config.index(index)
        rows: list[dict[str, Any]] = []
        for generation in project.catalog.generations.of_index(index):
            states = project.catalog.documents.states(generation.id, status="quarantined")
            for state in states.values():
                rows.append(
                    {
                        "generation": generation.fingerprint[:12],
                        "source": state.source,
                        "doc_id": state.doc_id,
                        "reason": state.reason,
                        "serving_previous_chunks": bool(state.chunk_ids),
                    }
                )
    if as_json:
        emit_json({"index": index, "quarantined": rows})
        return
    if not rows:
        out.print(f"{index}: nothing quarantined")
        return
    table = Table("source", "document", "reason", expand=True)
    for row in rows:
        table.add_row(row["source"], row["doc_id"], row["reason"])
    print_table(table)


@app.command()
def unlock(
    index: Annotated[str, typer.Argument(metavar="INDEX")],
    force: Annotated[
        bool,
        typer.Option(help="Free a lock whose holder (elsewhere) still renews it: it must be gone"),
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why (recorded in the audit log)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Free the lock of an index whose holder died (audited)."""
    from ragops.catalog import current_actor, index_lease

    with errors(as_json), project_session() as project:
        project.config.index(index)
        freed = project.catalog.leases.unlock(
            index_lease(index), actor=current_actor(), reason=reason, force=force
        )
    if as_json:
        emit_json({"index": index, "freed": freed.holder if freed else None})
        return
    if freed is None:
        out.print(f"{index}: not locked")
    else:
        out.print(f"{index}: freed the lock of {freed.describe()}")
