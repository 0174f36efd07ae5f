"""What the CLI prints when piped, as a script or ``grep`` reads it: whole lines, whole table
rows, search hits with their document and heading path, usage errors on one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import write_project
from tests.test_cli import as_json, cli, ragops

TRAVEL = """\
    # Travel policy

    ## Booking

    Book flights through the travel desk at least fourteen days before departure; economy
    class for flights under six hours.

    ## Expenses

    Keep every receipt. Meals are reimbursed up to forty euros a day on the road.
    """


def test_piped_output_keeps_lines_and_rows_whole(tmp_path: Path) -> None:
    path = write_project(tmp_path / "p", docs={"travel.md": TRAVEL}, chunker="markdown")
    cwd = path.parent
    synced = cli("sync", cwd=cwd)
    assert synced.returncode == 0, synced.stderr
    # One line per fact, never cut at 80 columns ("0 ⏎quarantined").
    [documents] = [line for line in synced.stdout.splitlines() if "documents:" in line]
    assert re.search(r"documents: 1 seen, .*, 0 quarantined$", documents), documents
    assert cli("promote", "docs", "1", cwd=cwd).returncode == 0

    versions = cli("versions", "docs", cwd=cwd).stdout
    [row] = [line for line in versions.splitlines() if line.startswith("│ 1 ")]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row), "the date, whole"
    assert "production" in row and as_json(cli("versions", "docs", "--json", cwd=cwd))

    found = cli("search", "docs", "how early must I book a flight?", "-k", "2", cwd=cwd)
    assert found.returncode == 0, found.stderr
    top = found.stdout.splitlines()
    [first] = [line for line in top if line.startswith("│ 1 ")]
    assert "travel.md" in first and "Book flights through the travel desk" in first
    assert "#" not in first, "headings are not flattened into the text"
    assert any("Travel policy › Booking" in line for line in top), found.stdout
    assert "docs production (version 1) · 2 hits" in found.stdout

    same = cli("promote", "docs", "1", cwd=cwd)
    assert same.stdout.strip() == "docs: production already at version 1; nothing recorded"
    history = as_json(cli("history", "docs", "--json", cwd=cwd))["history"]
    assert [h["action"] for h in history] == ["promote"], "an unchanged promote records nothing"


def test_usage_errors_are_one_line_with_the_usage_and_status_2(tmp_path: Path) -> None:
    missing = ragops("search", "docs", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == (
        "error: Missing argument 'QUERY'. usage: ragops search [OPTIONS] INDEX QUERY "
        "(`ragops search --help` for more)\n"
    )
    unknown = cli("sync", "--colour", cwd=tmp_path)
    assert unknown.returncode == 2 and len(unknown.stderr.splitlines()) == 1
    assert "No such option: --colour" in unknown.stderr
    bad = cli("search", "docs", "q", "--filter", "oops", "--json", cwd=tmp_path)
    assert bad.returncode == 2
    error = json.loads(bad.stdout)["error"]
    assert "--filter 'oops': write key=value" in error["message"]
    assert "usage: ragops search" in error["message"]


def test_sync_wait_says_once_what_it_waits_for_then_syncs(tmp_path: Path) -> None:
    """Piped, ``sync --wait`` prints the holder once (not every retry) and syncs when the
    holder lets go."""
    import subprocess
    import sys
    import time

    path = write_project(tmp_path / "p")
    url = f"sqlite:///{path.parent / '.ragops' / 'catalog.db'}"
    (path.parent / ".ragops").mkdir()
    repo = Path(__file__).resolve().parents[1]
    holder = subprocess.Popen(
        [sys.executable, "-m", "tests.catalog.lease_holder", url, "30"],
        cwd=repo, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "held"
    sync = subprocess.Popen(
        [sys.executable, "-m", "ragops.cli", "sync", "--wait"],
        cwd=path.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(12)  # several retries (one every 2 s) after the CLI has started
        assert sync.poll() is None, "the sync waits while the lease is held"
        holder.stdin.write("release\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "released"
        stdout, stderr = sync.communicate(timeout=300)
    finally:
        holder.kill()
        sync.kill()
    assert sync.returncode == 0, stderr
    assert stderr.count("waiting") == 1, stderr
    assert f"sync by pid {holder.pid}" in stderr
    assert "docs: built version 1" in stdout
