"""``ragops sources``: the project's sources, and a dry run of one (what its connector yields,
nothing read into an index)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ragops.cli.app import JsonOption, project_session
from ragops.cli.console import emit_json, errors, out, print_table

__all__ = ["sources_app"]

sources_app = typer.Typer(
    name="sources",
    help="The project's sources: list them, or test one (a dry run of its connector).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@sources_app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Every source: its connector, whether it is public, and the indexes it feeds."""
    with errors(as_json), project_session() as project:
        config = project.config
        rows: list[dict[str, Any]] = [
            {
                "source": name,
                "connector": source.connector,
                "public": source.public,
                "max_delete_fraction": source.max_delete_fraction,
                "indexes": [n for n, index in config.indexes.items() if name in index.sources],
            }
            for name, source in config.sources.items()
        ]
    if as_json:
        emit_json({"sources": rows})
        return
    table = Table("source", "connector", "public", "feeds")
    for row in rows:
        table.add_row(
            row["source"], row["connector"], "yes" if row["public"] else "no",
            ", ".join(row["indexes"]) or "-",
        )  # fmt: skip
    print_table(table)


@sources_app.command("test")
def test(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="A source of ragops.yaml")],
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="Documents shown in detail (all are counted)")
    ] = 20,
    as_json: JsonOption = False,
) -> None:
    """List what SOURCE's connector yields (ids, version markers, sizes, ACLs, metadata),
    reading no document and changing no index."""
    from ragops.sources.dry_run import preview_source

    with errors(as_json), project_session() as project:
        listing = preview_source(project, source, limit)
    if as_json:
        emit_json(listing.to_dict())
        return
    size = f", {listing.bytes:,} bytes" if listing.bytes is not None else ""
    out.print(
        f"[bold]{escape(source)}[/] (connector {listing.connector}): {listing.documents} "
        f"documents{size}, listed in {listing.seconds:.2f} s; feeds "
        f"{', '.join(listing.indexes) or 'no index'}"
    )
    for index, cursors in listing.cursors.items():
        shown = ", ".join(f"{name} = {value}" for name, value in cursors.items())
        out.print(f"cursor saved by index {escape(index)}: {escape(shown)} (a sync lists from it)")
    table = Table("doc_id", "version marker", "size", "acl", "metadata")
    for doc in listing.shown:
        table.add_row(
            escape(doc["doc_id"]), escape(doc["version"]),
            f"{doc['size']:,}" if doc["size"] is not None else "-",
            escape(", ".join(doc["acl"])) or "-",
            escape(", ".join(f"{k}={v}" for k, v in doc["metadata"].items())) or "-",
        )  # fmt: skip
    if listing.shown:
        print_table(table)
    hidden = listing.documents - len(listing.shown)
    if hidden > 0:
        out.print(f"… and {hidden} more (--limit {listing.documents} shows all)")
