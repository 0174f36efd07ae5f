"""``ragops prompts``: the prompt registry on the command line.

Every command first registers the current content of the files in ``prompts/`` (so an edited
file is a new version at once) and then reads or moves the registry. Same conventions as
``ragops``: ``--json`` prints exactly one JSON document on stdout, errors go to stderr with
exit status 1. The project comes from the main app's ``--config`` (``ragops --config X
prompts list``), ``$RAGOPS_CONFIG`` or ``./ragops.yaml``.

This module does not import :mod:`ragops.cli` (which adds ``prompts_app`` to itself), so it
works the same under ``python -m ragops.cli`` and the ``ragops`` script.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ragops.cli.console import emit_json as _emit_json
from ragops.cli.console import err, out, print_table
from ragops.cli.console import errors as _errors

if TYPE_CHECKING:  # pragma: no cover
    from ragops.catalog import PointerMove
    from ragops.llm.prompts import PromptRegistry, PromptVersion

__all__ = ["prompts_app"]

prompts_app = typer.Typer(
    name="prompts",
    help="Versioned prompt templates: list, show, diff, promote, roll back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout")]
NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="Prompt name (its file name without suffix)")
]
AliasOption = Annotated[str, typer.Option("--alias", help="Alias to move")]
REF_HELP = "alias, v<N>, hash prefix or latest"


def _config(ctx: typer.Context) -> Path | None:
    """The main app's ``--config`` (read from the command line, whichever module runs it)."""
    value = ctx.find_root().params.get("config")
    return Path(value) if value else None


@contextlib.contextmanager
def _registry(ctx: typer.Context) -> Iterator[PromptRegistry]:
    """Open the project, register the prompt files' current content, close at the end."""
    from ragops.llm.prompts import PromptRegistry
    from ragops.project import Project

    project = Project.open(_config(ctx))
    try:
        registry = PromptRegistry.for_project(project)
        for version in registry.scan():
            err.print(
                f"registered {version.ref} (v{version.number}) from {escape(version.path)}",
                soft_wrap=True,
            )
        yield registry
    finally:
        project.close()


def _aliases_of(registry: PromptRegistry, version: PromptVersion) -> list[str]:
    return [a for a, v in registry.aliases(version.name).items() if v.sha256 == version.sha256]


def _move_row(move: PointerMove, numbers: dict[str, int]) -> dict[str, Any]:
    return {
        "at": move.at.isoformat(timespec="seconds"),
        "alias": move.name,
        "action": move.action,
        "from_sha256": move.from_target,
        "to_sha256": move.to_target,
        "from": move.from_target[:12] if move.from_target else None,
        "to": move.to_target[:12],
        "from_number": numbers.get(move.from_target) if move.from_target else None,
        "to_number": numbers.get(move.to_target),
        "actor": move.actor,
        "reason": move.reason,
    }


# -- list, show, diff ------------------------------------------------------------------------


@prompts_app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Every prompt: versions, what production and staging serve, the latest version."""
    with _errors(as_json), _registry(ctx) as registry:
        files = registry.files()
        rows: list[dict[str, Any]] = []
        for name in registry.names():
            versions = registry.versions(name)
            aliases = registry.aliases(name)
            latest = versions[-1]
            production, staging = aliases.get("production"), aliases.get("staging")
            rows.append(
                {
                    "name": name,
                    "versions": len(versions),
                    "production": production.short_id if production else None,
                    "staging": staging.short_id if staging else None,
                    "latest": latest.short_id,
                    "latest_number": latest.number,
                    "aliases": {a: v.short_id for a, v in aliases.items()},
                    "variables": list(latest.variables),
                    "description": latest.description,
                    "file": files[name].name if name in files else None,
                }
            )
        prompts_dir = registry.prompts_dir
    if as_json:
        _emit_json({"prompts_dir": str(prompts_dir), "prompts": rows})
        return
    if not rows:
        out.print(f"no prompts in {prompts_dir}: add a file such as {prompts_dir / 'answer.txt'}")
        return
    table = Table("prompt", "versions", "production", "staging", "latest", "variables", "file")
    for row in rows:
        table.add_row(
            row["name"],
            str(row["versions"]),
            row["production"] or "",
            row["staging"] or "",
            f"v{row['latest_number']} {row['latest']}",
            ", ".join(row["variables"]),
            row["file"] or "[dim](deleted)[/]",
        )
    print_table(table)


@prompts_app.command()
def show(
    ctx: typer.Context,
    name: NameArgument,
    version: Annotated[
        str | None, typer.Option("--version", help=f"{REF_HELP} (default: production)")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print one version of a prompt (default: the one production serves)."""
    with _errors(as_json), _registry(ctx) as registry:
        prompt = registry.get(name, version or "production")
        aliases = _aliases_of(registry, prompt)
    if as_json:
        _emit_json({**prompt.to_dict(), "aliases": aliases})
        return
    pointers = f"  ({', '.join(aliases)})" if aliases else ""
    out.print(f"[bold]{prompt.ref}[/]  v{prompt.number}{pointers}")
    out.print(
        f"registered {prompt.created_at:%Y-%m-%d %H:%M:%S} UTC from {escape(prompt.path)}",
        soft_wrap=True,
    )
    if prompt.description:
        out.print(f"description: {escape(prompt.description)}", soft_wrap=True)
    out.print(f"variables: {', '.join(prompt.variables) or '(none)'}")
    out.print("")
    typer.echo(prompt.template)


@prompts_app.command()
def diff(
    ctx: typer.Context,
    name: NameArgument,
    a: Annotated[str, typer.Argument(metavar="A", help=f"From ({REF_HELP})")] = "production",
    b: Annotated[str, typer.Argument(metavar="B", help=f"To ({REF_HELP})")] = "latest",
    as_json: JsonOption = False,
) -> None:
    """Unified diff between two versions of a prompt (default: production → latest)."""
    with _errors(as_json), _registry(ctx) as registry:
        old, new = registry.get(name, a), registry.get(name, b)
        text = registry.diff(name, a, b)
    if as_json:
        _emit_json(
            {
                "name": name,
                "a": {"ref": a, "sha256": old.sha256, "number": old.number},
                "b": {"ref": b, "sha256": new.sha256, "number": new.number},
                "same": not text,
                "diff": text,
                "variables": {"a": list(old.variables), "b": list(new.variables)},
            }
        )
        return
    if not text:
        out.print(f"{name}: {a} and {b} are the same version ({old.ref}, v{old.number})")
        return
    typer.echo(text, nl=False)
    if old.variables != new.variables:
        err.print(
            f"variables change: {', '.join(old.variables) or '(none)'} → "
            f"{', '.join(new.variables) or '(none)'}"
        )


# -- promote, rollback, history --------------------------------------------------------------


@prompts_app.command()
def promote(
    ctx: typer.Context,
    name: NameArgument,
    version: Annotated[
        str, typer.Argument(metavar="VERSION", help=f"Version to promote ({REF_HELP})")
    ],
    alias: AliasOption = "production",
    reason: Annotated[str | None, typer.Option(help="Why (recorded in history)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Point an alias (default production) at a version of a prompt."""
    with _errors(as_json), _registry(ctx) as registry:
        move = registry.promote(name, version, alias, reason=reason)
        numbers = {v.sha256: v.number for v in registry.versions(name)}
    row = _move_row(move, numbers)
    if as_json:
        _emit_json({"name": name, **row})
        return
    target = f"v{row['to_number']} {row['to']}"
    if move.action == "unchanged":
        out.print(f"{name}: {alias} already points at {target}")
        return
    previous = f"from v{row['from_number']} {row['from']} " if row["from"] else ""
    out.print(f"{name}: {alias} moved {previous}to {target}")


@prompts_app.command()
def rollback(
    ctx: typer.Context,
    name: NameArgument,
    alias: AliasOption = "production",
    reason: Annotated[str | None, typer.Option(help="Why (recorded in history)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Return an alias to the version it pointed at before its latest promotion."""
    with _errors(as_json), _registry(ctx) as registry:
        move = registry.rollback(name, alias, reason=reason)
        numbers = {v.sha256: v.number for v in registry.versions(name)}
    row = _move_row(move, numbers)
    if as_json:
        _emit_json({"name": name, **row})
        return
    out.print(
        f"{name}: {alias} rolled back from v{row['from_number']} {row['from']} "
        f"to v{row['to_number']} {row['to']}"
    )


@prompts_app.command()
def history(
    ctx: typer.Context,
    name: NameArgument,
    alias: Annotated[str | None, typer.Option("--alias", help="Only this alias")] = None,
    as_json: JsonOption = False,
) -> None:
    """Every alias move of a prompt, with who, when and why."""
    with _errors(as_json), _registry(ctx) as registry:
        numbers = {v.sha256: v.number for v in registry.versions(name)}
        moves = registry.history(name, alias)
    rows = [_move_row(move, numbers) for move in moves]
    if as_json:
        _emit_json({"name": name, "history": rows})
        return
    table = Table("at", "alias", "action", "from", "to", "actor", "reason")
    for row in rows:
        table.add_row(
            row["at"],
            row["alias"],
            row["action"],
            f"v{row['from_number']} {row['from']}" if row["from"] else "",
            f"v{row['to_number']} {row['to']}",
            row["actor"],
            escape(row["reason"] or ""),
        )
    print_table(table)
