"""``ragops queries``: the query log (every search and ask) of an index."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ragops.cli.app import JsonOption, app, project_session
from ragops.cli.console import emit_json, errors, out, print_table

_SPAN = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_since(value: str | None) -> timedelta | None:
    """``30m``, ``1h``, ``7d`` as a timedelta (None: no limit)."""
    if value is None:
        return None
    match = _SPAN.match(value.strip())
    if match is None:
        raise typer.BadParameter(f"--since {value!r}: write a number and s, m, h or d (1h, 30m)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@app.command()
def queries(
    index: Annotated[str, typer.Argument(metavar="INDEX", help="Index whose queries to show")],
    since: Annotated[
        str | None, typer.Option(help="Only the last span: 30m, 1h, 7d (default: all)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, the newest")] = 50,
    as_json: JsonOption = False,
) -> None:
    """The query log of an index: every search and ask, with who asked, what came back and
    how long it took."""
    from ragops.queries import read_queries

    span = parse_since(since)
    with errors(as_json), project_session() as project:
        project.config.index(index)
        rows = read_queries(project.config.queries_path(), index=index, since=span, limit=limit)
    if as_json:
        emit_json({"index": index, "queries": rows})
        return
    if not rows:
        out.print(f"{index}: no queries logged" + (f" in the last {since}" if since else ""))
        return
    table = Table(title=f"{index}: {len(rows)} quer{'y' if len(rows) == 1 else 'ies'}")
    for column in ("at (UTC)", "kind", "face", "who", "env", "v", "query", "top document", "ms"):
        table.add_column(column, no_wrap=column not in ("query", "who"))
    for row in rows:
        table.add_row(
            f"{row['at']:%Y-%m-%d %H:%M:%S}",
            row["kind"],
            row["face"],
            escape(row["principal"] or ""),
            row["env"] or "",
            str(row["version"] or ""),
            escape(
                row["query"]
                if row["query"] is not None
                else f"sha256 {row['query_sha256'] or '–'}"[:19]
            ),
            escape(row["doc_ids"][0] if row["doc_ids"] else ""),
            f"{row['total_ms']:.0f}" if row["total_ms"] is not None else "",
        )
    print_table(table)
