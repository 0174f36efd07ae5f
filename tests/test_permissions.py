"""Document permissions: every search on behalf of principals sees only the documents their
ACLs allow, fail-closed (no ACL and not public: admins only); an ACL change reaches the points
in the next version without re-embedding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ragops
from ragops import Retriever
from ragops.errors import ConfigError
from ragops.project import Project
from tests.test_cli import as_json, cli

CONNECTOR = """
import json
from pathlib import Path
from ragops import SourceDocument, connector

@connector("records")
def records(folder: str, project_dir: str):
    root = Path(project_dir) / folder
    acls = json.loads((root / "acl.json").read_text())
    for path in sorted(root.glob("*.md")):
        yield SourceDocument(
            doc_id=path.name, version=str(path.stat().st_mtime_ns), filename=path.name,
            load=path.read_bytes, acl=tuple(acls.get(path.name, ())),
        )
"""

CONFIG = """\
project: perms
sources:
  handbook: {connector: filesystem, root: handbook, public: true}
  team: {connector: filesystem, root: team, acl: ["group:eng"]}
  records: {connector: records, folder: records}
indexes:
  docs:
    sources: [handbook, team, records]
    chunker: {kind: sentence}
"""

ACLS = {"salaries.md": ["group:hr"], "incident.md": ["group:eng", "user:carol"]}
ALL = {"vacation.md", "roadmap.md", "salaries.md", "incident.md", "orphan.md"}


def make_project(root: Path) -> Path:
    files = {
        "handbook/vacation.md": "# Vacation\n\nEveryone gets 25 days of paid leave per year.\n",
        "team/roadmap.md": "# Roadmap\n\nEngineering migrates the search cluster in March.\n",
        "records/salaries.md": "# Salaries\n\nSalary bands for 2027 are confidential.\n",
        "records/incident.md": "# Incident\n\nThe database failover took four minutes.\n",
        "records/orphan.md": "# Memo\n\nAn unlabelled memo about parking spaces.\n",
        "connectors/records/__init__.py": CONNECTOR,
        "ragops.yaml": CONFIG,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "records" / "acl.json").write_text(json.dumps(ACLS))
    return root / "ragops.yaml"


def seen(project: Project, principals: list[str] | None, version: int | None = None) -> set[str]:
    retriever = Retriever(project, "docs", version=version, principals=principals)
    return {h.doc_id for h in retriever.search("what do we know?", k=20)}


def test_each_principal_sees_exactly_what_the_acls_allow(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    with Project.open(config) as project:
        ragops.sync(project)
        ragops.promote(project, "docs", 1)
        assert seen(project, None) == ALL, "no principals: an admin reads everything"
        assert seen(project, ["group:eng"]) == {"vacation.md", "roadmap.md", "incident.md"}
        assert seen(project, ["group:hr"]) == {"vacation.md", "salaries.md"}
        assert seen(project, ["user:carol"]) == {"vacation.md", "incident.md"}
        assert seen(project, ["user:nobody"]) == {"vacation.md"}, "public only"
        assert seen(project, []) == {"vacation.md"}, "no principal at all: public only"
        assert not any("orphan.md" in seen(project, [p]) for p in ("group:eng", "group:hr"))

        payloads = {
            h.doc_id: h for h in Retriever(project, "docs").search("what do we know?", k=20)
        }
        assert payloads["incident.md"].metadata.get("acl") is None  # acl is not metadata
        with pytest.raises(ValueError, match="a filter on acl cannot be combined"):
            Retriever(project, "docs", principals=["group:eng"]).search(
                "x", filters={"acl": "group:hr"}
            )
        only_hr = Retriever(project, "docs").search("x", k=20, filters={"acl": "group:hr"})
        assert {h.doc_id for h in only_hr} == {"salaries.md"}, "acl filters address the field"
        with pytest.raises(ValueError, match=r"no chunk of docs version 1 has the field 'colr'"):
            Retriever(project, "docs").search("x", filters={"colr": "red"})
        by_name = Retriever(project, "docs").search("x", k=20, filters={"filename": "orphan.md"})
        assert {h.doc_id for h in by_name} == {"orphan.md"}, "a metadata key every chunk has"
        with pytest.raises(ValueError, match="principal 'alice' is not valid"):
            Retriever(project, "docs", principals=["alice"])


def test_an_acl_change_reaches_the_points_without_reembedding(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    with Project.open(config) as project:
        ragops.sync(project)
        (tmp_path / "records" / "acl.json").write_text(
            json.dumps({**ACLS, "incident.md": ["group:hr"]})
        )
        [second] = ragops.sync(project)
        assert (second.version, second.embedded) == (2, 0)
        assert second.documents.changed == 1
        assert "incident.md" not in seen(project, ["group:eng"], version=2)
        assert "incident.md" in seen(project, ["group:hr"], version=2)
        assert "incident.md" in seen(project, ["group:eng"], version=1), "v1 keeps its ACL"

    # Making a source public is a configuration change: the next sync rewrites its points.
    config.write_text(CONFIG.replace('acl: ["group:eng"]', "public: true"))
    with Project.open(config) as project:
        [third] = ragops.sync(project)
        assert (third.version, third.embedded) == (3, 0)
        assert "roadmap.md" in seen(project, ["user:nobody"], version=3)


def test_bad_principals_in_the_configuration_fail_at_load(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    config.write_text(CONFIG.replace('acl: ["group:eng"]', 'acl: ["eng"]'))
    with pytest.raises(ConfigError, match=r"sources.team.acl: principal 'eng' is not valid"):
        Project.open(config)


def test_search_and_evals_as_a_principal_from_the_cli(tmp_path: Path) -> None:
    config = make_project(tmp_path)
    cwd = config.parent
    (cwd / "evals").mkdir()
    (cwd / "evals" / "q.jsonl").write_text(
        json.dumps({"question": "How long did the failover take?",
                    "reference_doc_ids": ["incident.md"]}) + "\n"
    )  # fmt: skip
    config.write_text(
        CONFIG
        + "    evals:\n"
        + "      - {name: as-eng, path: evals/q.jsonl, k: 5, principals: ['group:eng']}\n"
        + "      - {name: as-hr, path: evals/q.jsonl, k: 5, principals: ['group:hr']}\n"
    )
    assert cli("sync", cwd=cwd).returncode == 0
    assert cli("promote", "docs", "1", cwd=cwd).returncode == 0
    found = as_json(cli("search", "docs", "failover", "--as", "group:hr", "--json", cwd=cwd))
    assert {h["doc_id"] for h in found["hits"]} == {"vacation.md", "salaries.md"}
    refused = cli("search", "docs", "failover", "--as", "hr", cwd=cwd)
    assert refused.returncode == 2 and "--as: principal 'hr' is not valid" in refused.stderr
    evaluated = as_json(cli("eval", "docs", "--json", cwd=cwd))
    recall = {run["dataset"]: run["metrics"]["recall@5"] for run in evaluated["evals"]}
    assert recall == {"as-eng": 1.0, "as-hr": 0.0}, "each eval set reads as its principals"
