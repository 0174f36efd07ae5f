"""The connector SDK, the per-project connector registry and the built-in filesystem connector."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ragops.errors import ConfigError, ConnectorError
from ragops.sources import ConnectorRegistry


def _write_connector(project: Path, folder: str, body: str) -> None:
    path = project / "connectors" / folder
    path.mkdir(parents=True)
    (path / "__init__.py").write_text(textwrap.dedent(body))


def test_filesystem_lists_matching_files_with_stable_ids_and_markers(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("alpha")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("beta")
    (tmp_path / ".hidden.md").write_text("secret")
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / "c.md").write_text("draft")
    connector = ConnectorRegistry().get("filesystem")
    options = connector.validate_options(
        "docs", {"root": str(tmp_path), "exclude": ["drafts/**", ".*"]}
    )
    documents = connector.list_documents("docs", options)
    assert [d.doc_id for d in documents] == ["a.md", "sub/b.txt"]
    first = documents[0]
    assert first.load() == b"alpha"
    assert first.metadata == {"path": "a.md", "extension": ".md"}, (
        "nothing that changes with content"
    )
    assert first.size == 5
    again = connector.list_documents("docs", options)
    assert [d.version for d in again] == [d.version for d in documents]


def test_filesystem_missing_root_raises_a_connector_error(tmp_path: Path) -> None:
    connector = ConnectorRegistry().get("filesystem")
    with pytest.raises(ConnectorError, match="does not exist"):
        connector.list_documents("docs", {"root": str(tmp_path / "gone")})


def test_project_connector_is_discovered_and_its_options_validated(tmp_path: Path) -> None:
    _write_connector(
        tmp_path,
        "notes_for_test",
        """
        from ragops import SourceDocument, connector

        @connector("notes_for_test")
        def notes(count: int, prefix: str = "n"):
            for i in range(count):
                yield SourceDocument(doc_id=f"{prefix}{i}", version="1", filename=f"{i}.txt",
                                     load=lambda i=i: f"note {i}".encode())
        """,
    )
    notes = ConnectorRegistry(tmp_path).get("notes_for_test")
    options = notes.validate_options("notes", {"count": "2"})
    assert options == {"count": 2, "prefix": "n"}
    assert [d.doc_id for d in notes.list_documents("notes", options)] == ["n0", "n1"]
    with pytest.raises(ConfigError, match=r"sources.notes.count = 'many'"):
        notes.validate_options("notes", {"count": "many"})
    with pytest.raises(ConfigError, match="sources.notes.count: required"):
        notes.validate_options("notes", {})
    assert "notes_for_test" not in ConnectorRegistry().all(), "nothing leaks to other projects"


def test_two_projects_with_a_same_named_connector_each_run_their_own(tmp_path: Path) -> None:
    for project, marker in (("one", "first"), ("two", "second")):
        _write_connector(
            tmp_path / project,
            "shared_name",
            f"""
            from ragops import SourceDocument, connector

            @connector("shared_name")
            def shared():
                yield SourceDocument(doc_id="{marker}", version="1", filename="a.txt",
                                     load=lambda: b"x")
            """,
        )
    listed = [
        [
            d.doc_id
            for d in ConnectorRegistry(tmp_path / p).get("shared_name").list_documents("s", {})
        ]
        for p in ("one", "two", "one")
    ]
    assert listed == [["first"], ["second"], ["first"]]


def test_a_connector_that_raises_while_listing_gives_a_connector_error(tmp_path: Path) -> None:
    _write_connector(
        tmp_path,
        "broken_for_test",
        """
        from ragops import SourceDocument, connector

        @connector("broken_for_test")
        def broken():
            yield SourceDocument(doc_id="a", version="1", filename="a.txt", load=lambda: b"a")
            raise TimeoutError("upstream API timed out")
        """,
    )
    broken = ConnectorRegistry(tmp_path).get("broken_for_test")
    with pytest.raises(ConnectorError, match="upstream API timed out"):
        broken.list_documents("api", {})


def test_a_listing_with_duplicate_ids_fails_naming_them(tmp_path: Path) -> None:
    _write_connector(
        tmp_path,
        "twice",
        """
        from ragops import SourceDocument, connector

        @connector("twice")
        def twice():
            for doc_id in ["a", "b", "a", "c", "b"]:
                yield SourceDocument(doc_id=doc_id, version="1", filename="x.txt",
                                     load=lambda: b"x")
        """,
    )
    with pytest.raises(ConnectorError) as raised:
        ConnectorRegistry(tmp_path).get("twice").list_documents("api", {})
    message = str(raised.value)
    assert "'a', 'b'" in message and "5 documents, 3 distinct ids" in message
    assert "nothing was changed" in message


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            "version=datetime.datetime(2026, 1, 2)",
            "yielded document 'a' with version=datetime.datetime(2026, 1, 2, 0, 0) (datetime): "
            "it must be a non-empty str (e.g. updated_at.isoformat() or str(etag))",
        ),
        (
            "version='1', metadata={'owner': 'ops', 'seen': datetime.date(2026, 1, 2)}",
            "metadata['seen'] holding datetime.date(2026, 1, 2) (date): metadata values must be "
            "JSON values",
        ),
        (
            "version='1', metadata={'tags': ['a', {'x': float('nan')}]}",
            "metadata['tags'] holding nan (float)",
        ),
        ("version='1', acl='group:eng'", "acl='group:eng': acl must be a sequence"),
    ],
)
def test_a_document_that_breaks_the_sdk_rules_is_refused_naming_the_field(
    tmp_path: Path, fields: str, expected: str
) -> None:
    _write_connector(
        tmp_path,
        "sloppy",
        f"""
        import datetime
        from ragops import SourceDocument, connector

        @connector("sloppy")
        def sloppy():
            yield SourceDocument(doc_id="a", filename="a.txt", load=lambda: b"x", {fields})
        """,
    )
    with pytest.raises(ConnectorError) as raised:
        ConnectorRegistry(tmp_path).get("sloppy").list_documents("api", {})
    assert "source 'api': connector 'sloppy'" in str(raised.value)
    assert expected in str(raised.value)


def test_json_metadata_and_a_principal_list_are_accepted(tmp_path: Path) -> None:
    _write_connector(
        tmp_path,
        "tidy",
        """
        from ragops import SourceDocument, connector

        @connector("tidy")
        def tidy():
            yield SourceDocument(
                doc_id="a", version="2026-01-02T00:00:00", filename="a.txt", load=lambda: b"x",
                metadata={"rank": 3, "score": 0.5, "draft": 0, "tags": ["x"], "owner": None,
                          "links": {"home": "https://example.org"}},
                acl=("group:eng", "user:alice"),
            )
        """,
    )
    [document] = ConnectorRegistry(tmp_path).get("tidy").list_documents("api", {})
    assert document.metadata["links"] == {"home": "https://example.org"}


def test_two_connectors_of_one_name_in_a_project_are_refused(tmp_path: Path) -> None:
    for folder in ("first", "second"):
        _write_connector(
            tmp_path,
            folder,
            """
            from ragops import connector

            @connector("same")
            def same():
                yield from ()
            """,
        )
    with pytest.raises(ConfigError, match="two connectors are named 'same'"):
        ConnectorRegistry(tmp_path).get("same")
