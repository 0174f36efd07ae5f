"""``ragops keys``: API keys for the server (create, list, revoke).

A key is shown once, when it is created; the catalog keeps only the sha256 of its secret.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ragops.cli.app import JsonOption, project_session
from ragops.cli.console import emit_json, err, errors, out, print_table

__all__ = ["keys_app"]

keys_app = typer.Typer(
    name="keys",
    help="API keys for `ragops serve`: create, list, revoke.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@keys_app.command()
def create(
    principal: Annotated[
        list[str],
        typer.Option(
            "--principal",
            help="Who the key acts as, e.g. user:alice or group:eng (repeat for several)",
        ),
    ],
    scope: Annotated[
        str, typer.Option(help="read (search, ask), write (also sync, promote), or admin")
    ] = "read",
    name: Annotated[str | None, typer.Option(help="What the key is for")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a key; it is printed this once (store it in your secret manager)."""
    from ragops.access import create_key

    with errors(as_json), project_session() as project:
        created = create_key(project.catalog, principal, scope, name=name)
    if as_json:
        emit_json({"key": created.key, **created.record.to_dict()})
        return
    record = created.record
    err.print(
        f"created key {record.key_id} (scope {record.scope}, principals "
        f"{', '.join(record.principals)}); it is shown only now:"
    )
    typer.echo(created.key)


@keys_app.command("list")
def list_(
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked keys")] = False,
    as_json: JsonOption = False,
) -> None:
    """The keys (never their secrets): id, name, principals, scope, created, last used."""
    from ragops.access import list_keys

    with errors(as_json), project_session() as project:
        keys = list_keys(project.catalog, include_revoked=revoked)
    rows = [k.to_dict() for k in keys]
    if as_json:
        emit_json({"keys": rows})
        return
    if not rows:
        out.print("no API keys: `ragops keys create --principal user:NAME` makes one")
        return
    table = Table(title=f"{len(rows)} API key{'' if len(rows) == 1 else 's'}")
    for column in ("key id", "name", "principals", "scope", "created (UTC)", "last used"):
        table.add_column(column, no_wrap=column != "principals")
    if revoked:
        table.add_column("revoked", no_wrap=True)
    for row in rows:
        cells = [
            row["key_id"],
            escape(row["name"] or ""),
            escape(", ".join(row["principals"])),
            row["scope"],
            f"{row['created_at'][:16].replace('T', ' ')} by {escape(row['created_by'])}",
            (row["last_used_at"] or "never")[:16].replace("T", " "),
        ]
        if revoked:
            cells.append((row["revoked_at"] or "")[:16].replace("T", " "))
        table.add_row(*cells)
    print_table(table)


@keys_app.command()
def revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="The key's id (keys list)")],
    reason: Annotated[str | None, typer.Option(help="Why (recorded in the audit log)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a key: it stops working at once (its record and audit stay)."""
    from ragops.access import revoke_key

    with errors(as_json), project_session() as project:
        record = revoke_key(project.catalog, key_id, reason=reason)
    if as_json:
        emit_json(record.to_dict())
        return
    out.print(
        f"revoked key {record.key_id} ({record.revoked_by}, {record.revoked_at:%Y-%m-%d %H:%M} UTC)"
    )
