"""Connector speed on real servers on loopback: web (1,000 pages), sql (100,000 rows on the local
PostgreSQL), s3 (1,000 objects on moto's server).

For each: the first listing (the connector alone, nothing indexed), the first sync, the
listing a resync does (from the saved cursor or validators), a no-op resync in the same
process, and a no-op ``ragops sync`` in a fresh process, minus the time the same process
takes to start and import the CLI ("beyond process start").

    python -m benchmarks.bench_connectors                 # all three
    python -m benchmarks.bench_connectors --only sql --rows 10000
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, save

PG_URL = os.environ.get(
    "RAGOPS_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WORDS = [
    "leave", "badge", "parking", "lunch", "failover", "backup", "deploy", "rollback", "invoice",
    "travel", "laptop", "printer", "vpn", "wifi", "canteen", "garage", "reception", "security",
    "audit", "budget", "roadmap", "hiring", "onboarding",
]  # fmt: skip


def _text(n: int) -> str:
    """A short paragraph, distinct for each ``n``."""
    picked = [WORDS[(n * 7 + k * 3) % len(WORDS)] for k in range(6)]
    return f"Note {n} covers {', '.join(picked)} for team {n % 13} in building {n % 5}."


def _cli_noop(config: Path, env: dict[str, str] | None = None, runs: int = 3) -> dict[str, Any]:
    """A no-op ``ragops sync`` in fresh processes, and the bare start of the same CLI."""
    ragops = str(Path(sys.executable).parent / "ragops")
    environment = {**os.environ, **(env or {})}

    def median(command: list[str]) -> tuple[float, str]:
        times, out = [], ""
        for _ in range(runs):
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=environment)
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
            out = done.stdout
        return statistics.median(times), out

    sync_seconds, out = median([ragops, "--config", str(config), "sync", "--json"])
    [result] = json.loads(out)["indexes"]
    if result["created_version"] or result["embedded"]:
        sys.exit(f"the no-op resync changed something: {result}")
    start_seconds, _ = median([sys.executable, "-c", "import ragops.cli"])
    return {
        "cli_noop_sync_seconds": round(sync_seconds, 3),
        "import_ragops_cli_seconds": round(start_seconds, 3),
        "beyond_process_start_seconds": round(sync_seconds - start_seconds, 3),
        "reported_seconds": result["seconds"],
    }


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = work()
    return time.perf_counter() - started, value


def _lifecycle(config: Path, source: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """First listing, first sync (model loaded), incremental listing and no-op resyncs of
    ``source``."""
    import ragops
    from ragops.project import Project

    with Project.open(config) as project:
        connector, options = project.connector_for(source)
        first_listing, listing = _timed(lambda: connector.listing(source, options, project.root))
        documents = len(listing.documents)
        project.embedder("bench").embed_documents(["load the model first"])
        first_sync, [synced] = _timed(lambda: ragops.sync(project))
        [generation] = project.catalog.generations.of_index("bench")
        memory = project.catalog.source_memory.of_generation(generation.id).get(source)
        again, relisted = _timed(lambda: connector.listing(source, options, project.root, memory))
        noop, [repeated] = _timed(lambda: ragops.sync(project))
        assert not repeated.created_version and repeated.embedded == 0, repeated
    return {
        "documents": documents,
        "first_listing_seconds": round(first_listing, 3),
        "first_listing_per_second": round(documents / first_listing, 1),
        "first_sync_seconds": round(first_sync, 2),
        "first_sync_embedded": synced.embedded,
        "first_sync_timings": synced.timings,
        "resync_listing_seconds": round(again, 3),
        "resync_listing_in_full": len(relisted.documents),
        "resync_listing_unchanged": len(relisted.unchanged),
        "noop_resync_in_process_seconds": round(noop, 3),
        **_cli_noop(config, env),
    }


def _config(root: Path, source: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    config = root / "ragops.yaml"
    config.write_text(
        f"project: bench\nsources:\n  {source}\n"
        "indexes:\n  bench: {sources: [src], chunker: {kind: sentence}}\n"
    )
    return config


def bench_web(work: Path, pages: int) -> dict[str, Any]:
    from tests.websites import Site, serve_site

    site = Site()
    sections = max(1, pages // 100)
    per_section = pages // sections
    site.html("/docs/", "Handbook", "The handbook.", [f"s{i}/" for i in range(sections)])
    n = 0
    for i in range(sections):
        links = [f"p{j}" for j in range(per_section)]
        site.html(f"/docs/s{i}/", f"Section {i}", f"Section {i} of the handbook.", links)
        for j in range(per_section):
            site.html(f"/docs/s{i}/p{j}", f"Page {n}", _text(n))
            n += 1
    site.pages["/robots.txt"] = ("text/plain", b"User-agent: *\nDisallow: /private/\n")
    with serve_site(site):
        source = (
            f"src: {{connector: web, seeds: ['{site.base}/docs/'], max_pages: {pages * 2}, "
            "rate_limit: 0, public: true}"
        )
        config = _config(work / "web", source)
        result = _lifecycle(config, "src")
        site.clear_log()
        import ragops
        from ragops.project import Project

        with Project.open(config) as project:
            ragops.sync(project)
        statuses = [status for _, _, status in site.log]
    result["noop_resync_requests"] = {
        "304": statuses.count(304),
        "200": statuses.count(200),
        "other": len(statuses) - statuses.count(304) - statuses.count(200),
    }
    result["pages_served"] = len(site.pages) - 1
    return result


def bench_sql(work: Path, rows: int) -> dict[str, Any]:
    import sqlalchemy as sa

    table = f"bench_rows_{rows}"
    engine = sa.create_engine(PG_URL)
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        connection.execute(
            sa.text(
                f"CREATE TABLE {table} (id int PRIMARY KEY, title text, body text, team text, "
                "updated_at timestamptz NOT NULL)"
            )
        )
        connection.execute(
            # one row a second, as rows written over time: the newest is the cursor
            sa.text(
                f"INSERT INTO {table} VALUES (:id, :title, :body, :team, "
                "timestamptz '2026-01-01 00:00:00+00' + :id * interval '1 second')"
            ),
            [
                {"id": n, "title": f"Note {n}", "body": _text(n), "team": f"team{n % 13}"}
                for n in range(1, rows + 1)
            ],
        )
    try:
        source = (
            f"src: {{connector: sql, url: '{PG_URL}', table: {table}, title_column: title, "
            "text_columns: [body], updated_column: updated_at, metadata_columns: [team], "
            "public: true}"
        )
        return {"rows": rows, **_lifecycle(_config(work / "sql", source), "src")}
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()


def bench_s3(work: Path, objects: int) -> dict[str, Any]:
    import boto3
    from moto.server import ThreadedMotoServer

    env = {
        "BENCH_S3_KEY": "bench-key", "BENCH_S3_SECRET": "bench-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }  # fmt: skip
    os.environ.update(env)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="bench-key", aws_secret_access_key="bench-secret",
        )  # fmt: skip
        client.create_bucket(Bucket="bench")
        for n in range(objects):
            body = f"# Note {n}\n\n{_text(n)}\n".encode()
            client.put_object(Bucket="bench", Key=f"docs/{n // 100}/note-{n}.md", Body=body)
        source = (
            f"src: {{connector: s3, bucket: bench, prefix: docs/, endpoint_url: '{endpoint}', "
            "access_key_env: BENCH_S3_KEY, secret_key_env: BENCH_S3_SECRET, public: true}"
        )
        return {"objects": objects, **_lifecycle(_config(work / "s3", source), "src", env)}
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["web", "sql", "s3"], action="append")
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--objects", type=int, default=1000)
    args = parser.parse_args()
    selected = args.only or ["web", "sql", "s3"]
    # with --only, the other parts keep their figures from the last run (each is dated)
    previous = RESULTS / "connectors.json"
    result: dict[str, Any] = {}
    if args.only and previous.is_file():
        earlier = json.loads(previous.read_text())
        result = {part: earlier[part] for part in ("web", "sql", "s3") if part in earlier}
    runs = {
        "web": lambda work: bench_web(work, args.pages),
        "s3": lambda work: bench_s3(work, args.objects),
        "sql": lambda work: bench_sql(work, args.rows),
    }
    with tempfile.TemporaryDirectory(prefix="ragops-bench-connectors-") as folder:
        for part in selected:
            measured = runs[part](Path(folder))
            result[part] = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **measured}
    save("connectors", result)


if __name__ == "__main__":
    main()
