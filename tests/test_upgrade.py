"""A whole project made by ragops 0.1.0 (catalog, embedded store, chunk store) keeps serving
after the upgrade; its first sync gives the old collection its project-scoped name."""

from __future__ import annotations

from pathlib import Path

import pytest

import ragops
from ragops import Retriever
from ragops.catalog import INDEX
from ragops.project import Project
from tests.catalog.test_migrations import copy_catalog, unpack_release_0_1_0
from tests.catalog_urls import fresh_postgres_database


def _upgrade_and_serve(path: Path) -> None:
    with Project.open(path) as project:
        assert Retriever(project, "docs").version == 1, "production still serves version 1"
        hits = Retriever(project, "docs").search("What causes the tides?", k=1)
        assert hits[0].doc_id == "astronomy.md"
        [legacy] = project.catalog.generations.of_index("docs")
        assert legacy.collection == f"docs__{legacy.fingerprint[:12]}"
        [result] = ragops.sync(
            project
        )  # a new spec (dtype resolved, new chunk ids): new generation
        assert result.created_version and result.version == 3
        renamed = project.catalog.generations.get(legacy.id)
        assert renamed.collection == f"docs__{legacy.fingerprint[:12]}__{project.project_id}"
        assert project.store.collection_exists(renamed.collection)
        assert not project.store.collection_exists(legacy.collection)
        assert project.chunk_store.versions(renamed.collection) == [1, 2]
        assert (
            Retriever(project, "docs", version=2).search("bees honey", k=1)[0].doc_id == "bees.md"
        )
        # the old evals carry no eval set hash: they are no evidence; evaluating version 2 is
        ragops.evaluate(project, "docs", version=2)
        ragops.evaluate(project, "docs", version=1)
        promoted = ragops.promote(project, "docs", 2)
        assert promoted.to_version == 2
        assert project.store.get_alias(project.alias_name("docs")) == renamed.collection
        assert project.catalog.pointers.get(INDEX, "docs", "staging").version == 2  # type: ignore[union-attr]


def test_a_0_1_0_project_upgrades_and_keeps_serving(tmp_path: Path) -> None:
    _upgrade_and_serve(unpack_release_0_1_0(tmp_path))


def test_a_0_1_0_project_on_postgresql_upgrades_and_keeps_serving(tmp_path: Path) -> None:
    path = unpack_release_0_1_0(tmp_path)
    with fresh_postgres_database() as url:
        copy_catalog(f"sqlite:///{tmp_path / '.ragops' / 'catalog.db'}", url)
        path.write_text(path.read_text() + f"catalog:\n  url: '{url}'\n")
        _upgrade_and_serve(path)


def test_a_catalog_with_another_project_name_is_refused(tmp_path: Path) -> None:
    from ragops.errors import ConfigError

    path = unpack_release_0_1_0(tmp_path)
    with Project.open(path) as project:
        project.project_id  # noqa: B018  (records the project "test")
    path.write_text(path.read_text().replace("project: test", "project: other"))
    with Project.open(path) as project, pytest.raises(ConfigError, match="belongs to project"):
        project.project_id  # noqa: B018
