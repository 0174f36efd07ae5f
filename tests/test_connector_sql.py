"""The ``sql`` connector against the real PostgreSQL and MariaDB servers every development and
CI machine runs: inserts, updates and deletes between syncs reach the index (only the changed
rows embedded), ACL and metadata columns flow without re-embedding, the password comes from
the environment and is never shown, and a broken query fails the sync before any write."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import ragops
from ragops import Retriever
from ragops.errors import ConnectorError
from ragops.project import Project
from tests.catalog_urls import fresh_postgres_database

MARIADB_URL = os.environ.get("RAGOPS_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")


def require_mariadb() -> None:
    """Skip (locally) or fail (under CI=true) when MariaDB does not answer."""
    try:
        engine = sa.create_engine(MARIADB_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001  (the reason is reported)
        message = f"no MariaDB server answers at {MARIADB_URL}: {exc}".splitlines()[0]
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message} (CI=true: MariaDB tests never skip)")
        pytest.skip(message)


@pytest.fixture(params=["postgres", "mariadb"])
def database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """(the URL ragops.yaml holds, with ${RAGOPS_TEST_DB_PASSWORD} for the password)."""
    monkeypatch.setenv("RAGOPS_TEST_DB_PASSWORD", "")  # both servers trust loopback
    if request.param == "postgres":
        with fresh_postgres_database() as url:
            yield url.replace("postgres@", "postgres:${RAGOPS_TEST_DB_PASSWORD}@", 1)
    else:
        require_mariadb()
        yield MARIADB_URL.replace("root@", "root:${RAGOPS_TEST_DB_PASSWORD}@", 1)


def engine_of(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("${RAGOPS_TEST_DB_PASSWORD}", ""))


def write_config(root: Path, url: str, table: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "ragops.yaml"
    config.write_text(
        "project: sqlsource\n"
        "sources:\n"
        "  articles:\n"
        "    connector: sql\n"
        f"    url: '{url}'\n"
        f"    table: {table}\n"
        "    title_column: title\n"
        "    text_columns: [body]\n"
        "    updated_column: updated_at\n"
        "    metadata_columns: [team]\n"
        "    acl_column: readers\n"
        "indexes:\n"
        "  docs: {sources: [articles], chunker: {kind: markdown}}\n"
    )
    return config


ROWS = [
    (1, "Parking", "Visitors park in the north garage, level two.", "facilities", "group:staff"),
    (2, "Failover", "The database failover takes four minutes.", "sre", "group:eng"),
    (3, "Lunch", "The canteen serves lunch from noon until two.", "facilities", "group:staff"),
]


def test_rows_sync_incrementally_with_acls_and_metadata(database: str, tmp_path: Path) -> None:
    table = f"articles_{uuid.uuid4().hex[:8]}"
    engine = engine_of(database)
    t = sa.Table(
        table, sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(200)),
        sa.Column("body", sa.Text), sa.Column("team", sa.String(50)),
        sa.Column("readers", sa.String(200)), sa.Column("updated_at", sa.Integer),
    )  # fmt: skip
    t.create(engine)
    try:
        with engine.begin() as connection:
            connection.execute(t.insert(), [dict(zip(
                ("id", "title", "body", "team", "readers"), row, strict=True), updated_at=1)
                for row in ROWS])  # fmt: skip
        config = write_config(tmp_path / "project", database, table)
        with Project.open(config) as project:
            [first] = ragops.sync(project)
            assert (first.documents.new, first.chunks) == (3, 3)
            ragops.promote(project, "docs", first.version or 1)

            def seen(principals: list[str], **filters: str) -> set[str]:
                retriever = Retriever(project, "docs", principals=principals)
                return {h.doc_id for h in retriever.search("where", k=10, filters=filters)}

            assert seen(["group:staff"]) == {"1", "3"}
            assert seen(["group:eng"]) == {"2"}
            assert seen(["group:staff"], team="facilities") == {"1", "3"}

            with engine.begin() as connection:  # update 2, delete 3, insert 4, re-ACL 1
                connection.execute(
                    t.update()
                    .where(t.c.id == 2)
                    .values(body="The database failover now takes ninety seconds.", updated_at=2)
                )
                connection.execute(t.delete().where(t.c.id == 3))
                connection.execute(
                    t.insert().values(
                        id=4,
                        title="Badges",
                        body="Lost badges are replaced at reception.",
                        team="facilities",
                        readers="group:staff,user:carol",
                        updated_at=1,
                    )
                )
                connection.execute(  # an ACL change moves updated_at, as any change must
                    t.update().where(t.c.id == 1).values(readers="group:eng", updated_at=2)
                )
            # fmt: skip
            [second] = ragops.sync(project)
            d = second.documents
            assert (d.new, d.changed, d.deleted) == (1, 2, 1), "row 1: its ACL; row 2: its text"
            assert second.embedded == 2, "only the updated and the inserted row are embedded"
            ragops.promote(project, "docs", second.version or 2)
            assert seen(["group:eng"]) == {"1", "2"}, "the ACL change reached row 1"
            assert seen(["user:carol"]) == {"4"}
            [hit] = Retriever(project, "docs").search("failover", k=1)
            assert "ninety seconds" in hit.text and hit.metadata["team"] == "sre"

            # the cursor is kept in the catalog: the next listing reads rows at or past it only
            [generation] = project.catalog.generations.of_index("docs")
            memory = project.catalog.source_memory.of_generation(generation.id)["articles"]
            assert memory.cursors == {"since": {"type": "int", "value": 2}}
            connector, options = project.connector_for("articles")
            listing = connector.listing("articles", options, project.root, memory)
            assert sorted(d.doc_id for d in listing.documents) == ["1", "2"], "updated_at >= 2"
            assert listing.unchanged == ["4"], "updated_at 1: only its id is read"

            with engine.begin() as connection:
                connection.execute(t.update().where(t.c.id == 2).values(team="ops", updated_at=3))
                connection.execute(t.delete().where(t.c.id == 4))
            [third] = ragops.sync(project)
            d = third.documents
            assert (d.new, d.changed, d.deleted, d.unchanged) == (0, 1, 1, 1)
            assert third.embedded == 0, "a metadata change is not re-embedded"
            memory = project.catalog.source_memory.of_generation(generation.id)["articles"]
            assert memory.cursors == {"since": {"type": "int", "value": 3}}

            (config.parent / "ragops.yaml").write_text(
                config.read_text().replace(f"table: {table}", "table: no_such_table")
            )
        with Project.open(config) as project, pytest.raises(ConnectorError) as failed:
            ragops.sync(project)
        message = str(failed.value)
        assert "listing failed" in message and "no_such_table" in message
        os.environ["RAGOPS_TEST_DB_PASSWORD"] = "s3cr3t-pw"  # restored by monkeypatch
        with Project.open(config) as project, pytest.raises(ConnectorError) as failed:
            ragops.sync(project)  # PostgreSQL trusts loopback: no table; MariaDB: login refused
        assert "listing failed" in str(failed.value) and "s3cr3t-pw" not in str(failed.value)
        with Project.open(config) as project:
            assert [v.number for v in project.catalog.versions.of_index("docs")] == [1, 2, 3]
    finally:
        t.drop(engine)
        engine.dispose()


def test_a_missing_password_variable_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAGOPS_SQL_PASSWORD", raising=False)
    config = write_config(
        tmp_path / "p", "postgresql+psycopg://ragops:${RAGOPS_SQL_PASSWORD}@127.0.0.1/x", "t"
    )
    with Project.open(config) as project, pytest.raises(ConnectorError) as failed:
        ragops.sync(project)
    assert "environment variable RAGOPS_SQL_PASSWORD is not set" in str(failed.value)


def test_a_timestamp_cursor_round_trips_and_lists_only_changed_rows(database: str) -> None:
    from datetime import datetime, timedelta

    from ragops.sources import ConnectorRegistry

    table = f"notes_{uuid.uuid4().hex[:8]}"
    engine = engine_of(database)
    t = sa.Table(
        table, sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.Text),
        sa.Column("updated_at", sa.DateTime, nullable=True),
    )  # fmt: skip
    t.create(engine)
    noon = datetime(2026, 12, 1, 12, 0, 0)
    try:
        with engine.begin() as connection:
            connection.execute(t.insert(), [
                {"id": 1, "body": "one", "updated_at": noon - timedelta(hours=2)},
                {"id": 2, "body": "two", "updated_at": noon},
                {"id": 3, "body": "three", "updated_at": None},
            ])  # fmt: skip
        sql = ConnectorRegistry().get("sql")
        options = {"url": database, "table": table, "text_columns": ["body"],
                   "updated_column": "updated_at"}  # fmt: skip
        first = sql.listing("notes", options)
        assert len(first.documents) == 3 and first.unchanged == []
        assert first.memory.cursors == {"since": {"type": "datetime", "value": noon.isoformat()}}
        again = sql.listing("notes", options, None, first.memory)
        assert sorted(d.doc_id for d in again.documents) == ["2", "3"], "at the cursor, or NULL"
        assert again.unchanged == ["1"]
        with engine.begin() as connection:
            later = noon + timedelta(minutes=5)
            connection.execute(t.update().where(t.c.id == 1).values(body="uno", updated_at=later))
        moved = sql.listing("notes", options, None, first.memory)
        assert sorted(d.doc_id for d in moved.documents) == ["1", "2", "3"]
        assert moved.memory.cursors["since"]["value"] == later.isoformat()
        lagged = sql.listing("notes", {**options, "lag": 3 * 3600}, None, moved.memory)
        assert len(lagged.documents) == 3, "three hours of lag list every row again"
    finally:
        t.drop(engine)
        engine.dispose()
