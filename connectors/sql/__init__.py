"""The ``sql`` connector: rows of a table or a query in any database SQLAlchemy reaches
(PostgreSQL, MariaDB/MySQL, SQLite, …), one document per row.

Listing reads only what decides whether a row changed: its id, its ``updated_column`` (the
version marker), and its metadata and ACL columns (cheap, and a change there reaches the index
without re-embedding). The text columns are read by ``load()``, for new and changed rows only.
A row that is no longer listed is deleted from the index; a listing that fails (a broken
query, a refused login) deletes nothing.

With ``updated_column``, ragops keeps the highest value it saw as a cursor (in the catalog,
saved when the version commits). The next listing reads the ids of all rows (so deletes are
seen) and the listed columns of the rows whose ``updated_column`` is at or past the cursor
(minus ``lag``), or NULL; every other row is reported unchanged and not looked at. A change to
a row must therefore move its ``updated_column`` (an ACL change included); ``ragops sync
--full-listing`` reads every row again.

Without an ``updated_column``, every listing reads the whole rows and the marker is a hash of
the document's text: correct, but not cheap on a large table.

Secrets never sit in ``ragops.yaml``: ``url`` may hold ``${VAR}`` placeholders filled from the
environment (``postgresql+psycopg://ragops:${PGPASSWORD}@db/wiki``), and the URL is only ever
shown with its password hidden.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ragops.errors import ConnectorError
from ragops.sources import Incremental, SourceDocument, Unchanged, connector

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


@connector("sql")
def sql(
    url: str,
    text_columns: list[str],
    table: str | None = None,
    query: str | None = None,
    id_column: str = "id",
    updated_column: str | None = None,
    title_column: str | None = None,
    metadata_columns: list[str] = [],  # noqa: B006  (pydantic copies defaults)
    acl_column: str | None = None,
    extension: str = ".md",
    incremental: bool = True,
    lag: float = 0,
    since: Incremental[Any] = Incremental(),
) -> Iterator[SourceDocument | Unchanged]:
    """Yield one document per row of ``table`` (or of ``query``).

    Args:
        url: a SQLAlchemy URL; ``${VAR}`` is replaced by the environment variable VAR.
        text_columns: the columns that make the document's text, in order (each one a
            paragraph; ``title_column`` first, as a ``#`` heading).
        table: a table (or ``schema.table``) to read; or give ``query`` instead.
        query: a SELECT whose rows are the documents (it is read as a subquery).
        id_column: the row's stable id: the document id is its text.
        updated_column: a column that changes whenever the row does (``updated_at``, a row
            version): the version marker; without it, a hash of the text.
        title_column: a column shown as the document's title.
        metadata_columns: columns stored with every chunk (filterable in search).
        acl_column: a column holding who may read the row: a list (PostgreSQL arrays) or a
            comma-separated string of principals (``group:eng,user:alice``).
        extension: how the text is parsed: ``.md`` (markdown, the default) or ``.txt``.
        incremental: with ``updated_column``, list only the rows changed since the last sync
            (plus every id); false reads the listed columns of every row each time.
        lag: how far before the cursor the next listing starts, in seconds for a date or time
            ``updated_column`` and in its units for a number: covers transactions that commit
            after rows with later values were listed.
        since: the cursor ragops keeps (not an option).
    """
    import sqlalchemy as sa

    if (table is None) == (query is None):
        raise ConnectorError("sql source: give exactly one of 'table' and 'query'")
    engine = sa.create_engine(_expand(url), pool_pre_ping=True)
    shown = engine.url.render_as_string(hide_password=True)
    source = _rows(sa, table, query)
    listed = [id_column, *filter(None, [updated_column, acl_column]), *metadata_columns]
    content = [*filter(None, [title_column]), *text_columns]
    read_all = updated_column is None
    columns = list(dict.fromkeys(listed + (content if read_all else [])))
    start = None if read_all or not incremental else _lagged(since.start_value, lag)
    unchanged: list[Any] = []
    try:
        with engine.connect() as connection:
            select = sa.select(*(sa.column(c) for c in columns)).select_from(source)
            if start is not None:
                updated = sa.column(updated_column)
                select = select.where(sa.or_(updated >= sa.bindparam("since", start),
                                             updated.is_(None)))  # fmt: skip
            rows = connection.execute(select.order_by(sa.column(id_column))).mappings().all()
            if start is not None:
                every = sa.select(sa.column(id_column)).select_from(source)
                listed_ids = {row[id_column] for row in rows}
                unchanged = [
                    row_id
                    for row_id in connection.execute(every.order_by(sa.column(id_column))).scalars()
                    if row_id not in listed_ids
                ]
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise ConnectorError(
            f"sql source at {shown}: listing failed: {_first_line(exc)}; check the url, "
            "table or query and the column names in ragops.yaml"
        ) from None
    for row_id in unchanged:
        yield Unchanged(str(row_id))
    for row in rows:
        row_id = str(row[id_column])
        if updated_column is not None:
            since.observe(_cursor_value(row[updated_column]))
        if read_all:
            text = _render(row, title_column, text_columns)
            marker, load = _sha256(text), _constant(text.encode("utf-8"))
        else:
            marker = _text(row[updated_column])
            load = _loader(engine, shown, source, id_column, row[id_column], title_column,
                           text_columns)  # fmt: skip
        yield SourceDocument(
            doc_id=row_id,
            version=marker or "none",
            filename=f"{_safe(row_id)}{extension}",
            load=load,
            mime_type="text/markdown" if extension == ".md" else "text/plain",
            metadata={column: _json(row[column]) for column in metadata_columns},
            acl=_principals(row[acl_column]) if acl_column else (),
        )


def _cursor_value(value: Any) -> Any:
    """A value of ``updated_column`` as a cursor can keep it (decimals as int or float)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _lagged(start: Any, lag: float) -> Any:
    if start is None or not lag:
        return start
    if isinstance(start, datetime | date):
        return start - timedelta(seconds=lag)
    if isinstance(start, int | float):
        return start - (int(lag) if isinstance(start, int) else lag)
    return start


def _expand(url: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConnectorError(
                f"sql source: the url uses ${{{name}}} but the environment variable {name} is "
                "not set; export it where ragops runs"
            )
        return os.environ[name]

    return _PLACEHOLDER.sub(value, url)


def _rows(sa: Any, table: str | None, query: str | None) -> Any:
    """The FROM clause: the table, or the query as a subquery."""
    if table is not None:
        if not _IDENTIFIER.match(table):
            raise ConnectorError(
                f"sql source: table {table!r} is not a plain name (letters, digits, _, and one "
                "optional schema. prefix); use 'query' for anything else"
            )
        schema, _, name = table.rpartition(".")
        return sa.table(name, schema=schema or None)
    return sa.text(str(query)).columns().subquery("ragops_rows")


def _loader(
    engine: Any, shown: str, source: Any, id_column: str, row_id: Any,
    title_column: str | None, text_columns: list[str],
) -> Any:  # fmt: skip
    import sqlalchemy as sa

    def load() -> bytes:
        columns = [*filter(None, [title_column]), *text_columns]
        select = (
            sa.select(*(sa.column(c) for c in columns))
            .select_from(source)
            .where(sa.column(id_column) == row_id)
        )
        try:
            with engine.connect() as connection:
                row = connection.execute(select).mappings().first()
        except sa.exc.SQLAlchemyError as exc:
            raise ConnectorError(
                f"sql source at {shown}: reading row {row_id!r} failed: {_first_line(exc)}"
            ) from None
        if row is None:
            raise ConnectorError(f"sql source at {shown}: row {row_id!r} vanished while syncing")
        return _render(row, title_column, text_columns).encode("utf-8")

    return load


def _render(row: Any, title_column: str | None, text_columns: list[str]) -> str:
    parts = []
    if title_column and row[title_column] not in (None, ""):
        parts.append(f"# {_text(row[title_column])}")
    parts += [_text(row[c]) for c in text_columns if row[c] not in (None, "")]
    return "\n\n".join(parts) + "\n"


def _principals(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(p.strip() for p in items if str(p).strip())


def _json(value: Any) -> Any:
    """A metadata value as JSON: dates as ISO text, decimals as floats."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def _text(value: Any) -> str:
    return str(_json(value)) if value is not None else ""


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _constant(data: bytes) -> Any:
    return lambda: data


def _safe(row_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", row_id)[:100] or "row"


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
