"""The connector SDK and the built-in filesystem connector."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ragops.connectors import discover_connectors, get_connector
from ragops.errors import ConfigError, ConnectorError


def test_filesystem_lists_matching_files_with_stable_ids_and_markers(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("alpha")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("beta")
    (tmp_path / ".hidden.md").write_text("secret")
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / "c.md").write_text("draft")
    connector = get_connector("filesystem")
    options = connector.validate_options(
        "docs", {"root": str(tmp_path), "exclude": ["drafts/**", ".*"]}
    )
    documents = list(connector.iter_documents("docs", options))
    assert [d.doc_id for d in documents] == ["a.md", "sub/b.txt"]
    first = documents[0]
    assert first.load() == b"alpha"
    assert first.metadata["extension"] == ".md"
    again = list(connector.iter_documents("docs", options))
    assert [d.version for d in again] == [d.version for d in documents]


def test_filesystem_missing_root_raises_a_connector_error(tmp_path: Path) -> None:
    connector = get_connector("filesystem")
    with pytest.raises(ConnectorError, match="does not exist"):
        list(connector.iter_documents("docs", {"root": str(tmp_path / "gone")}))


def test_project_connector_is_discovered_and_its_options_validated(tmp_path: Path) -> None:
    folder = tmp_path / "connectors" / "notes_for_test"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(
        textwrap.dedent("""
        from ragops.connectors import SourceDocument, connector

        @connector("notes_for_test")
        def notes(count: int, prefix: str = "n"):
            for i in range(count):
                yield SourceDocument(doc_id=f"{prefix}{i}", version="1", filename=f"{i}.txt",
                                     load=lambda i=i: f"note {i}".encode())
    """)
    )
    registry = discover_connectors(tmp_path)
    assert "notes_for_test" in registry
    notes = registry["notes_for_test"]
    options = notes.validate_options("notes", {"count": "2"})
    assert options == {"count": 2, "prefix": "n"}
    assert [d.doc_id for d in notes.iter_documents("notes", options)] == ["n0", "n1"]
    with pytest.raises(ConfigError, match=r"sources.notes.count = 'many'"):
        notes.validate_options("notes", {"count": "many"})
    with pytest.raises(ConfigError, match="sources.notes.count: required"):
        notes.validate_options("notes", {})


def test_a_connector_that_raises_while_listing_gives_a_connector_error(tmp_path: Path) -> None:
    folder = tmp_path / "connectors" / "broken_for_test"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(
        textwrap.dedent("""
        from ragops.connectors import SourceDocument, connector

        @connector("broken_for_test")
        def broken():
            yield SourceDocument(doc_id="a", version="1", filename="a.txt", load=lambda: b"a")
            raise TimeoutError("upstream API timed out")
    """)
    )
    broken = discover_connectors(tmp_path)["broken_for_test"]
    with pytest.raises(ConnectorError, match="upstream API timed out"):
        list(broken.iter_documents("api", {}))
