"""Catalog database URLs for tests: a SQLite file, and a fresh PostgreSQL database on the
server every development and CI machine runs (127.0.0.1:5432).

When PostgreSQL does not answer, its tests skip on a laptop without it, but under ``CI=true``
they fail: CI must never pass without having run them.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

POSTGRES_ADMIN_URL = os.environ.get(
    "RAGOPS_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CATALOG_KINDS = ("sqlite", "postgres")


@functools.cache
def postgres_problem() -> str | None:
    """None when the PostgreSQL server answers; else why not."""
    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001  (the reason is reported)
        return f"{exc.__class__.__name__}: {exc}".splitlines()[0]


def require_postgres() -> None:
    """Skip (locally) or fail (under CI=true) when PostgreSQL does not answer."""
    problem = postgres_problem()
    if problem is None:
        return
    message = f"no PostgreSQL server answers at {POSTGRES_ADMIN_URL}: {problem}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message} (CI=true: PostgreSQL tests never skip)")
    pytest.skip(message)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database, yield its URL, drop it afterwards."""
    require_postgres()
    name = f"ragops_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = sa.engine.make_url(POSTGRES_ADMIN_URL)
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@contextmanager
def catalog_url_for(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url
