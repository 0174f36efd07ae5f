"""Catalog migrations (Alembic): a catalog made by ragops 0.1.0 upgrades on SQLite and on
PostgreSQL with its history intact, and a whole 0.1.0 project keeps serving after the upgrade.

``tests/fixtures/release-0.1.0-project.tar.gz`` is a project built by ragops 0.1.0 itself
(``tests/fixtures/make_release_0_1_0_project.py``, run against that release): two versions,
production promoted 1 → 2 and rolled back to 1, staging at 2, two prompt versions.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from ragops.catalog import HEAD_REVISION, INDEX, PROMPT, Catalog
from ragops.catalog.database import Database, migrate
from ragops.errors import CatalogError
from tests.catalog_urls import fresh_postgres_database

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.0-project.tar.gz"
MIGRATIONS = Path(__file__).resolve().parents[2] / "src" / "ragops" / "catalog" / "migrations"


def unpack_release_0_1_0(target: Path) -> Path:
    """The 0.1.0 project in ``target``; returns its ragops.yaml."""
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(target, filter="data")
    return target / "ragops.yaml"


def copy_catalog(source_url: str, target_url: str) -> None:
    """Make the 0.1 schema at ``target_url`` (migration 0001) and copy every row into it."""
    from alembic import command
    from alembic.config import Config

    database = Database(target_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with database.transaction() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    source = sa.create_engine(source_url)
    tables = sa.MetaData()
    tables.reflect(source)
    with source.connect() as reader, database.transaction() as writer:
        for table in tables.sorted_tables:
            rows = [dict(row) for row in reader.execute(table.select()).mappings()]
            if rows:
                writer.execute(
                    sa.Table(table.name, sa.MetaData(), autoload_with=writer).insert(), rows
                )
        if writer.dialect.name == "postgresql":  # keep the serial ids counting after the copy
            for name in ("generations", "evals", "environment_history", "prompt_alias_history"):
                writer.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"coalesce(max(id), 1)) FROM {name}"
                    )
                )
    source.dispose()
    database.close()


def _assert_upgraded_history(catalog: Catalog) -> None:
    pointers = catalog.pointers
    environments = pointers.of_subject(INDEX, "docs")
    assert {name: p.version for name, p in environments.items()} == {"production": 1, "staging": 2}
    moves = [
        (m.name, m.action, m.from_version, m.to_version, m.actor)
        for m in pointers.history(INDEX, "docs")
    ]
    assert moves == [
        ("production", "promote", None, 1, "release-0.1.0"),
        ("production", "promote", 1, 2, "release-0.1.0"),
        ("production", "rollback", 2, 1, "release-0.1.0"),
        ("staging", "promote", None, 2, "release-0.1.0"),
    ]
    assert [m.to_target for m in pointers.stack(INDEX, "docs", "production")] == ["1"]
    prompts = catalog.prompts.of_prompt("answer")
    aliases = pointers.of_subject(PROMPT, "answer")
    assert [v.number for v in prompts] == [1, 2]
    assert aliases["production"].target == prompts[0].sha256
    assert aliases["staging"].target == prompts[1].sha256
    assert [v.number for v in catalog.versions.of_index("docs")] == [1, 2]
    assert {e.dataset_sha256 for e in catalog.evals.of_version("docs")} == {None}


def test_the_head_revision_is_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_a_0_1_0_catalog_upgrades_on_sqlite(tmp_path: Path) -> None:
    unpack_release_0_1_0(tmp_path)
    url = f"sqlite:///{tmp_path / '.ragops' / 'catalog.db'}"
    catalog = Catalog(url)
    try:
        _assert_upgraded_history(catalog)
    finally:
        catalog.close()
    tables = set(sa.inspect(sa.create_engine(url)).get_table_names())
    assert {"pointers", "leases", "project", "audit_log"} <= tables
    assert not tables & {"environments", "prompt_aliases", "sync_locks"}


def test_a_0_1_0_catalog_upgrades_on_postgresql(tmp_path: Path) -> None:
    unpack_release_0_1_0(tmp_path)
    with fresh_postgres_database() as url:
        copy_catalog(f"sqlite:///{tmp_path / '.ragops' / 'catalog.db'}", url)
        catalog = Catalog(url)
        try:
            _assert_upgraded_history(catalog)
            catalog.evals.record("docs", 2, "questions", 5, {}, {}, 0.1)  # ids keep counting
        finally:
            catalog.close()


def test_an_empty_database_is_created_at_the_head(catalog_url: str) -> None:
    catalog = Catalog(catalog_url)
    try:
        with catalog.database.read() as connection:
            revision = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert revision.scalar() == HEAD_REVISION
        assert catalog.versions.of_index("docs") == []
    finally:
        catalog.close()


def test_a_catalog_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    Catalog(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(CatalogError, match="newer than this ragops understands"):
        Catalog(url)


def test_a_pre_0_1_catalog_gains_the_columns_it_lacked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:  # the versions table as the first release made it
        connection.execute(
            sa.text(
                "CREATE TABLE versions (index_name VARCHAR(64) NOT NULL, number INTEGER NOT NULL, "
                "generation_id INTEGER NOT NULL, created_at DATETIME NOT NULL, documents INTEGER "
                "NOT NULL, chunks INTEGER NOT NULL, stats_json TEXT NOT NULL, "
                "PRIMARY KEY (index_name, number))"
            )
        )
        connection.execute(
            sa.text("INSERT INTO versions VALUES ('docs', 1, 1, '2026-01-01 00:00:00', 3, 9, '{}')")
        )
    engine.dispose()
    catalog = Catalog(url)
    try:
        [version] = catalog.versions.of_index("docs")
        assert version.number == 1 and version.pruned_at is None
    finally:
        catalog.close()


def test_two_processes_opening_a_fresh_catalog_migrate_it_once(catalog_url: str) -> None:
    import subprocess
    import sys

    code = f"from ragops.catalog import Catalog; Catalog({catalog_url!r}).close(); print('ok')"
    processes = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in processes]
    assert outputs == ["ok", "ok", "ok"]
    assert all(p.returncode == 0 for p in processes)
    database = Database(catalog_url)
    migrate(database)
    database.close()


def test_the_migrations_build_exactly_the_schema_the_code_queries(catalog_url: str) -> None:
    """schema.py (what queries use) and the migrations (what databases get) agree: every
    table and column, with its type and nullability."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from ragops.catalog.schema import metadata

    catalog = Catalog(catalog_url)
    try:
        with catalog.database.read() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = [
                d for d in compare_metadata(context, metadata)
                if not (isinstance(d, tuple) and d[0] in ("add_index", "remove_index"))
            ]  # fmt: skip
    finally:
        catalog.close()
    assert differences == []
