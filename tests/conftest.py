"""Shared fixtures: small projects built in tmp_path, never the shared corpora."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("RAGOPS_ACTOR", "pytest")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

# Every Python process a test starts blocks outbound network too (tests/netblock), as
# pytest-socket does in this process: loopback and Unix sockets only.
NETBLOCK = Path(__file__).resolve().parent / "netblock"
os.environ["RAGOPS_TEST_NETWORK_BLOCK"] = "1"
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(NETBLOCK), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
)

DOCS = {
    "rollback.md": """\
        # Rolling back

        Use `ragops rollback INDEX` to return production to the version it served before.
        Rollback moves a pointer in the catalog; nothing is re-embedded.
        """,
    "gardening.md": """\
        # Growing tomatoes

        Tomatoes need six hours of sun a day, deep watering twice a week and a stake to
        climb. Pinch the side shoots so the plant puts its energy into fruit.
        """,
    "astronomy.md": """\
        # The Moon

        The Moon orbits the Earth every 27.3 days. Its phases come from the changing angle
        between the Sun, the Earth and the Moon. Tides are mostly caused by the Moon.
        """,
    "bread.html": """\
        <html><body><h1>Baking bread</h1>
        <p>Mix flour, water, salt and yeast. Knead for ten minutes, let the dough rise for
        an hour, shape the loaf and bake it at 230 degrees Celsius for forty minutes.</p>
        </body></html>
        """,
}

EVALS = [
    {
        "question": "How do I return production to the previous version?",
        "reference_doc_ids": ["rollback.md"],
    },
    {"question": "How much sun do tomato plants need?", "reference_doc_ids": ["gardening.md"]},
    {"question": "What causes the tides?", "reference_doc_ids": ["astronomy.md"]},
    {"question": "How long should bread dough rise?", "reference_doc_ids": ["bread.html"]},
]


def write_project(
    root: Path,
    *,
    docs: dict[str, str] | None = None,
    store_url: str | None = None,
    catalog_url: str | None = None,
    gates: list[str] | None = None,
    chunker: str = "sentence",
    extra_index: str = "",
    public: bool = False,
) -> Path:
    """A small project in ``root``; returns the ragops.yaml path. ``public``: every reader
    may read its documents (they carry no ACL)."""
    docs_dir = root / "docs"
    docs_dir.mkdir(parents=True, exist_ok=True)
    for name, text in (DOCS if docs is None else docs).items():
        (docs_dir / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (root / "evals").mkdir(exist_ok=True)
    (root / "evals" / "questions.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in EVALS), encoding="utf-8"
    )
    store = f"store:\n  url: '{store_url}'\n" if store_url else ""
    catalog = f"catalog:\n  url: '{catalog_url}'\n" if catalog_url else ""
    gate_lines = "".join(f'      - "{g}"\n' for g in (gates or []))
    config = (
        "project: test\n"
        f"{store}{catalog}"
        "sources:\n"
        "  docs:\n"
        "    connector: filesystem\n"
        "    root: docs\n" + ("    public: true\n" if public else "") + "indexes:\n"
        "  docs:\n"
        "    sources: [docs]\n"
        f"    chunker: {{kind: {chunker}}}\n"
        "    evals:\n"
        "      - {name: questions, path: evals/questions.jsonl, k: 5}\n"
        + (f"    gates:\n{gate_lines}" if gate_lines else "")
        + extra_index
    )
    path = root / "ragops.yaml"
    path.write_text(config, encoding="utf-8")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A catalog on SQLite, then on a fresh PostgreSQL database (tests using it run twice)."""
    from tests.catalog_urls import catalog_url_for

    with catalog_url_for(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def project_path(tmp_path: Path, catalog_url: str) -> Path:
    """The fixture project, its catalog on SQLite and then on PostgreSQL."""
    return write_project(tmp_path / "project", catalog_url=catalog_url)


@pytest.fixture
def open_project(project_path: Path) -> Iterator[Callable[..., object]]:
    """Open the fixture project (closing every opened one at the end)."""
    from ragops.project import Project

    opened: list[Project] = []

    def _open(path: Path | None = None) -> Project:
        project = Project.open(path or project_path)
        opened.append(project)
        return project

    yield _open
    for project in opened:
        project.close()
