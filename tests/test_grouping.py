"""One hit per document: ``group_by="doc_id"`` returns the best chunk of each of the k best
documents (with ``group_size``, its next best chunks after it), in the library and over REST,
where without it one long document fills the top k."""

from __future__ import annotations

from pathlib import Path

import pytest

import ragops
from ragops import Retriever
from ragops.project import Project
from tests.conftest import write_project
from tests.test_cli import as_json, cli

GARDEN = "# Growing tomatoes\n\n" + "\n\n".join(
    f"## Step {n}\n\nTomato plants in the garden need {topic}. Water the tomato beds in the "
    f"morning and check the tomato leaves for {pest} every week of the growing season."
    for n, (topic, pest) in enumerate(
        [
            ("six hours of sun", "aphids"), ("rich compost", "hornworms"),
            ("deep watering", "blight"), ("stakes or cages", "whiteflies"),
            ("mulch against weeds", "spider mites"), ("pruned suckers", "cutworms"),
            ("warm soil", "leaf spot"), ("calcium", "blossom end rot"),
        ]
    )
)  # fmt: skip
DOCS = {
    "garden.md": GARDEN,
    "sauce.md": "# Tomato sauce\n\nSimmer ripe garden tomatoes with garlic for an hour.\n",
    "salad.md": "# Salad\n\nSlice fresh tomatoes from the garden with basil and olive oil.\n",
    "moon.md": "# The Moon\n\nThe Moon orbits the Earth every 27 days.\n",
}
QUERY = "how do I grow tomato plants in my garden"


@pytest.fixture
def project_config(tmp_path: Path) -> Path:
    config = write_project(tmp_path / "project", docs=DOCS, public=True)
    with Project.open(config) as project:
        ragops.sync(project)
        ragops.promote(project, "docs", 1)
    return config


def test_grouping_returns_each_document_once(project_config: Path) -> None:
    with Project.open(project_config) as project:
        retriever = Retriever(project, "docs")
        plain = [h.doc_id for h in retriever.search(QUERY, k=4)]
        assert plain.count("garden.md") >= 2, f"the long document fills the top 4: {plain}"

        grouped = [h.doc_id for h in retriever.search(QUERY, k=3, group_by="doc_id")]
        assert grouped[0] == "garden.md" and len(set(grouped)) == 3 == len(grouped)
        assert "moon.md" not in grouped

        pairs = retriever.search(QUERY, k=2, group_by="doc_id", group_size=2)
        assert [h.doc_id for h in pairs][:2] == ["garden.md", "garden.md"]
        assert len({h.chunk_id for h in pairs}) == len(pairs) and len(pairs) in (3, 4)
        everything = retriever.search(QUERY, k=10, group_by="doc_id")
        assert sorted(h.doc_id for h in everything) == sorted(DOCS)

        [batch] = retriever.search_many([QUERY], k=3, group_by="doc_id")
        assert [h.doc_id for h in batch] == grouped
        with pytest.raises(ValueError, match="group_size must be at least 1"):
            retriever.search(QUERY, group_by="doc_id", group_size=0)

    found = as_json(cli("search", "docs", QUERY, "-k", "3", "--group-by", "doc_id", "--json",
                        cwd=project_config.parent))  # fmt: skip
    assert [h["doc_id"] for h in found["hits"]] == grouped


def test_grouping_over_rest(project_config: Path) -> None:
    from tests.serve.conftest import make_keys, running_server

    with Project.open(project_config) as project:
        keys, key_ids = make_keys(project, {"read": ["user:reader"]})
        local = [h.doc_id for h in Retriever(project, "docs").search(QUERY, 3, group_by="doc_id")]
    with running_server(project_config, keys, key_ids) as server:
        with Retriever.connect(server.url, "docs", api_key=keys["read"]) as remote:
            assert [h.doc_id for h in remote.search(QUERY, k=3, group_by="doc_id")] == local
            [many] = remote.search_many([QUERY], k=3, group_by="doc_id")
            assert [h.doc_id for h in many] == local
        with server.client("read") as client:
            bad = client.post(
                "/v1/indexes/docs/search", json={"query": QUERY, "group_by": "doc_id",
                                                 "group_size": 0},
            )  # fmt: skip
    assert bad.status_code == 422 and "group_size" in bad.json()["error"]["message"]
