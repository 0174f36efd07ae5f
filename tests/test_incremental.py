"""The connector SDK's incremental cursor, with the tutorial connector of docs/connectors.md run
as written against a real JSON API on loopback.

The cursor starts empty, is kept in the catalog when a version commits, is handed back on the
next sync (only changed tickets are asked for and embedded, a deleted one is deleted), does
not move when a sync fails, starts over for a new generation, and a late write (an id the
index does not hold reported unchanged) makes ragops list the source again in full."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import ragops
from ragops import Retriever
from ragops.errors import ConnectorError
from ragops.project import Project
from ragops.sources import ConnectorRegistry
from ragops.versions.plan import current_markers
from tests.test_cli import as_json, cli

REPO = Path(__file__).resolve().parents[1]


def tutorial_code() -> str:
    text = (REPO / "docs" / "connectors.md").read_text(encoding="utf-8")
    section = text[text.index("## Tutorial: a connector with a cursor and deletes") :]
    match = re.search(r"```python\n(.*?)\n```", section, re.S)
    assert match, "docs/connectors.md: the tutorial has no python block"
    return match.group(1) + "\n"


class HelpDesk:
    """A help desk's JSON API: tickets by id, and the requests it was sent."""

    def __init__(self) -> None:
        self.tickets: dict[int, dict[str, Any]] = {}
        self.requests: list[str] = []
        self.broken = False
        self.base = ""

    def put(self, ticket_id: int, title: str, body: str, updated_at: str) -> None:
        self.tickets[ticket_id] = {
            "id": ticket_id, "title": title, "body": body, "updated_at": updated_at,
            "status": "open", "readers": ["group:support"],
        }  # fmt: skip

    def since_values(self) -> list[str]:
        """The updated_since each /tickets request asked for ('' when none)."""
        return [
            parse_qs(urlsplit(r).query, keep_blank_values=True).get("updated_since", [""])[0]
            for r in self.requests
            if urlsplit(r).path == "/tickets"
        ]

    def answer(self, path: str, authorization: str | None) -> tuple[int, Any]:
        self.requests.append(path)
        if authorization != "Bearer s3cret":
            return 401, {"error": "unauthorized"}
        url = urlsplit(path)
        if url.path == "/tickets/ids":
            return (500, {"error": "down"}) if self.broken else (200, sorted(self.tickets))
        since = parse_qs(url.query).get("updated_since", [""])[0]
        return 200, [t for t in self.tickets.values() if t["updated_at"] >= since]


@pytest.fixture
def helpdesk(monkeypatch: pytest.MonkeyPatch) -> Iterator[HelpDesk]:
    desk = HelpDesk()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            status, data = desk.answer(self.path, self.headers.get("Authorization"))
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    desk.base = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("HELPDESK_TOKEN", "Bearer s3cret")
    try:
        yield desk
    finally:
        server.shutdown()
        server.server_close()


def project_with_tutorial(root: Path, desk: HelpDesk, chunker: str = "sentence") -> Path:
    (root / "connectors" / "tickets").mkdir(parents=True)
    (root / "connectors" / "tickets" / "__init__.py").write_text(tutorial_code())
    config = root / "ragops.yaml"
    config.write_text(
        "project: helpdesk\n"
        "sources:\n"
        "  helpdesk:\n"
        "    connector: tickets\n"
        f"    base_url: {desk.base}\n"
        "indexes:\n"
        f"  tickets: {{sources: [helpdesk], chunker: {{kind: {chunker}}}}}\n"
    )
    return config


def cursor_of(project: Project) -> Any:
    generation = project.catalog.generations.of_index("tickets")[-1]
    memory = project.catalog.source_memory.of_generation(generation.id).get("helpdesk")
    return None if memory is None else memory.cursors["updated_since"]["value"]


def test_the_tutorial_connector_is_short() -> None:
    assert len(tutorial_code().splitlines()) < 50


def test_tutorial_connector_syncs_incrementally_with_deletes(
    helpdesk: HelpDesk, tmp_path: Path
) -> None:
    helpdesk.put(1, "Printer jam", "The third floor printer jams on A3 paper.", "2026-12-01T09:00")
    helpdesk.put(2, "VPN drops", "The VPN drops every hour on the guest wifi.", "2026-12-01T10:00")
    helpdesk.put(3, "Badge lost", "A visitor lost a badge at reception.", "2026-12-01T11:00")
    config = project_with_tutorial(tmp_path / "p", helpdesk)
    with Project.open(config) as project:
        [first] = ragops.sync(project)
        assert (first.documents.new, first.embedded) == (3, 3)
        assert helpdesk.since_values() == [""], "no cursor yet: everything"
        assert cursor_of(project) == "2026-12-01T11:00"

        helpdesk.put(2, "VPN drops", "The VPN drops every ten minutes now.", "2026-12-02T08:00")
        del helpdesk.tickets[3]
        [second] = ragops.sync(project)
        d = second.documents
        assert (d.changed, d.deleted, d.unchanged, second.embedded) == (1, 1, 1, 1)
        assert helpdesk.since_values()[-1] == "2026-12-01T11:00", "asked from the cursor"
        assert cursor_of(project) == "2026-12-02T08:00"
        ragops.promote(project, "tickets", second.version or 2)
        hits = Retriever(project, "tickets", principals=["group:support"]).search("vpn", k=5)
        assert {h.doc_id for h in hits} == {"1", "2"} and "ten minutes" in hits[0].text

        helpdesk.put(4, "Coffee", "The coffee machine on floor two is broken.", "2026-12-03T08:00")
        helpdesk.broken = True  # /tickets/ids fails after the changed tickets were listed
        with pytest.raises(ConnectorError, match="500"):
            ragops.sync(project)
        assert cursor_of(project) == "2026-12-02T08:00", "a failed sync keeps the cursor"
        helpdesk.broken = False
        [third] = ragops.sync(project)
        assert third.documents.new == 1 and helpdesk.since_values()[-1] == "2026-12-02T08:00"

        # a late write: created with an updated_at before the cursor; only /tickets/ids has it
        helpdesk.put(5, "Late", "A ticket whose transaction committed late.", "2026-11-30T00:00")
        asked = len(helpdesk.since_values())
        [fourth] = ragops.sync(project)
        assert fourth.documents.new == 1 and fourth.embedded == 1
        assert helpdesk.since_values()[asked:] == ["2026-12-03T08:00", ""], "then in full"

        # what Dagster's sensor sees: the same incremental listing, saving nothing
        asked = len(helpdesk.since_values())
        markers = current_markers(project, ["helpdesk"], "tickets")
        expected = {("helpdesk", str(i)): t["updated_at"] for i, t in helpdesk.tickets.items()}
        assert markers == expected
        assert helpdesk.since_values()[asked:] == ["2026-12-03T08:00"]

    # a new generation (another chunker) must read every document: it starts with no cursor
    config.write_text(config.read_text().replace("kind: sentence", "kind: markdown"))
    with Project.open(config) as project:
        asked = len(helpdesk.since_values())
        [rebuilt] = ragops.sync(project)
        assert rebuilt.documents.new == 4
        assert helpdesk.since_values()[asked:] == [""]

    # other options (the same API, spelled another way): what was saved is not used
    config.write_text(config.read_text().replace("http://127.0.0.1:", "http://localhost:"))
    with Project.open(config) as project:
        [moved] = ragops.sync(project)
        assert helpdesk.since_values()[-1] == "" and moved.embedded == 0

    # the dry run lists in full and shows the cursor a sync would start from
    shown = as_json(cli("sources", "test", "helpdesk", "--json", cwd=config.parent))
    assert shown["documents"] == 4 and helpdesk.since_values()[-1] == ""
    assert shown["cursors"] == {"tickets": {"updated_since": "2026-12-03T08:00"}}


def test_the_cursor_goes_through_staging(helpdesk: HelpDesk, tmp_path: Path) -> None:
    """Dagster's chunks step stages the listing; its index_version step commits the cursor."""
    from ragops import pipeline

    helpdesk.put(1, "Printer jam", "The third floor printer jams on A3 paper.", "2026-12-01T09:00")
    config = project_with_tutorial(tmp_path / "p", helpdesk)
    with Project.open(config) as project:
        pipeline.stage_to_disk(project, "tickets")
        assert cursor_of(project) is None, "staging commits nothing"
        built = pipeline.build_staged(project, "tickets")
        assert built.version == 1 and cursor_of(project) == "2026-12-01T09:00"
        assert helpdesk.since_values() == [""], "built from the staged listing, not a new one"


def test_unchanged_without_a_cursor_is_a_connector_error(tmp_path: Path) -> None:
    folder = tmp_path / "connectors" / "lazy"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(
        "from ragops import Unchanged, connector\n"
        "@connector('lazy')\n"
        "def lazy():\n"
        "    yield Unchanged('a')\n"
    )
    (tmp_path / "ragops.yaml").write_text(
        "project: lazy\nsources:\n  s: {connector: lazy}\nindexes:\n  i: {sources: [s]}\n"
    )
    with Project.open(tmp_path / "ragops.yaml") as project, pytest.raises(ConnectorError) as e:
        ragops.sync(project)
    assert "reports 1 document(s) as Unchanged that the index does not hold" in str(e.value)
    assert "'a'" in str(e.value)


def test_cursor_values_keep_their_type_and_refuse_mixing() -> None:
    from datetime import UTC, datetime

    from ragops import Incremental
    from ragops.sources.incremental import decode_cursor, encode_cursor

    moment = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    assert decode_cursor(encode_cursor(moment)) == moment
    assert decode_cursor(encode_cursor(7)) == 7
    cursor: Incremental[Any] = Incremental()
    cursor.observe(3)
    cursor.observe(2)
    assert cursor.last_value == 3
    with pytest.raises(ConnectorError, match="cannot compare"):
        cursor.observe("4")
    with pytest.raises(ConnectorError, match="cannot be saved"):
        encode_cursor(float("nan"))
    assert "since" not in ConnectorRegistry().get("sql").option_names(), "injected, not an option"
