"""``ragops sources list`` and ``ragops sources test SOURCE``: a dry run of a connector that
reads no document and changes no index."""

from __future__ import annotations

from pathlib import Path

from ragops.project import Project
from tests.conftest import write_project
from tests.test_cli import as_json, cli


def test_sources_test_lists_what_the_connector_yields_and_reads_nothing(tmp_path: Path) -> None:
    config = write_project(tmp_path / "p", public=True)
    cwd = config.parent
    files = sorted(p.name for p in (cwd / "docs").iterdir())

    listing = as_json(cli("sources", "test", "docs", "--limit", "2", "--json", cwd=cwd))
    assert (listing["source"], listing["connector"], listing["indexes"]) == (
        "docs", "filesystem", ["docs"],
    )  # fmt: skip
    assert listing["documents"] == len(files)
    assert listing["bytes"] == sum((cwd / "docs" / f).stat().st_size for f in files)
    assert [d["doc_id"] for d in listing["shown"]] == files[:2]
    first = listing["shown"][0]
    assert first["acl"] == ["*"] and first["metadata"]["extension"] == ".md"
    assert first["version"].endswith(f":{(cwd / 'docs' / files[0]).stat().st_size}")
    with Project.open(config) as project:
        assert project.catalog.versions.of_index("docs") == [], "nothing was indexed"

    shown = cli("sources", "test", "docs", "--limit", "1", cwd=cwd)
    assert shown.returncode == 0 and f"… and {len(files) - 1} more" in shown.stdout
    listed = as_json(cli("sources", "list", "--json", cwd=cwd))["sources"]
    assert [(s["source"], s["public"], s["indexes"]) for s in listed] == [("docs", True, ["docs"])]

    unknown = cli("sources", "test", "dcos", cwd=cwd)
    assert (
        unknown.returncode == 1 and "unknown source 'dcos' (did you mean 'docs'?)" in unknown.stderr
    )
