"""The catalog database: engine, transactions, and migrations on open.

SQLite (the default, a file in ``data_dir``) and PostgreSQL behave alike here:

- A write transaction (:meth:`Database.transaction`) takes the write lock when it starts
  (SQLite ``BEGIN IMMEDIATE``; PostgreSQL row locks and ``FOR UPDATE``), so concurrent writers
  from several processes wait for each other instead of failing half way.
- :func:`migrate` brings the schema to this release's revision with Alembic, holding a lock
  (SQLite's write lock, a PostgreSQL advisory lock) so two processes opening a fresh catalog
  at once do not both migrate it. A catalog already at :data:`HEAD_REVISION` costs one query.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ragops.catalog.read_cache import ReadCache
from ragops.errors import CatalogError

__all__ = ["HEAD_REVISION", "Database", "aware", "migrate", "now"]

#: The newest migration (``ragops/catalog/migrations/versions``); a test checks it is the head.
HEAD_REVISION = "0006"

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_ADVISORY_KEY = 0x7261_676F_7073  # "ragops"


def now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime) -> datetime:
    """A datetime read back from the database, made timezone-aware (SQLite drops the zone)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class Database:
    """An engine plus the transaction discipline every repository uses. Thread-safe."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = sa.create_engine(url, future=True)
        except (sa.exc.SQLAlchemyError, ImportError) as exc:
            raise CatalogError(
                f"cannot open the catalog at {self.safe_url}: {exc}; check catalog.url in "
                "ragops.yaml"
            ) from exc
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        file = self.engine.url.database if self.is_sqlite else None
        #: Reads reused until the catalog changes (SQLite files only, see ReadCache).
        self.cache = ReadCache(file if file and file != ":memory:" else None)
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_connect)
            sa.event.listen(self.engine, "begin", _sqlite_begin)

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction that holds the write lock from its first statement."""
        with self.engine.connect() as connection:
            if self.is_sqlite:
                connection.info["ragops_begin"] = "BEGIN IMMEDIATE"
            with connection.begin():
                yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection (a consistent snapshot for the statements it runs)."""
        with self.engine.connect() as connection:
            yield connection

    def close(self) -> None:
        self.cache.close()
        self.engine.dispose()


def migrate(database: Database) -> None:
    """Upgrade the catalog to :data:`HEAD_REVISION` (creating it when empty)."""
    try:
        current = _current_revision(database)
        if current == HEAD_REVISION:
            return
        if current is not None and current > HEAD_REVISION:
            raise CatalogError(
                f"the catalog at {database.safe_url} is at revision {current}, newer than this "
                f"ragops understands ({HEAD_REVISION}): it was upgraded by a newer release; "
                "install that release (or newer)"
            )
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        with database.transaction() as connection:
            if not database.is_sqlite:
                connection.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except CatalogError:
        raise
    except Exception as exc:
        raise CatalogError(
            f"cannot upgrade the catalog at {database.safe_url} to this ragops "
            f"(revision {HEAD_REVISION}): {exc.__class__.__name__}: {exc}. Nothing was changed "
            "(the upgrade runs in one transaction); check that the database is reachable and "
            "writable, or report this with the message"
        ) from exc


def _current_revision(database: Database) -> str | None:
    with database.read() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        row = connection.execute(sa.text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else None


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN (pysqlite's own implicit transactions do not
    # cover DDL and never take the write lock up front).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql(connection.info.pop("ragops_begin", "BEGIN"))
