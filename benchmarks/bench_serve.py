"""``ragops serve`` under load: REST search latency and throughput at 1, 8 and 32 concurrent
clients, search p99 while a sync runs inside the server, and a 1 % change synced through it.

A subset of ``../shared/data/hf-hub-docs`` (``--files``, default 120) is copied into a temp
project, built and promoted in this process, then served by a real ``ragops serve`` process
on loopback; the clients are threads with their own HTTP connection (httpx), each sending
searches back to back for ``--seconds``. Writes ``benchmarks/results/serve.json``.

    python -m benchmarks.bench_serve [--files 120] [--seconds 10] [--clients 1,8,32]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import HF_DOCS, RESULTS, machine, require, summary_ms, write_project

QUERIES = [
    "How do I upload a model to the Hub?",
    "What is a model card?",
    "How do I create a private repository?",
    "How can I use the inference API?",
    "What are Spaces?",
    "How do I manage access tokens?",
    "How do I download files from a repository?",
    "What licenses can a dataset use?",
    "How do webhooks work?",
    "How do I deploy a model on SageMaker?",
    "What is the difference between a model and a dataset repository?",
    "How do I version large files with git?",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load(url: str, key: str, clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` threads searching back to back for ``seconds``."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        mine, i = [], number
        with httpx.Client(base_url=url, headers=headers, timeout=60, trust_env=False) as http:
            while time.monotonic() < deadline:
                query = QUERIES[i % len(QUERIES)]
                i += 1
                started = time.perf_counter()
                response = http.post("/v1/indexes/bench/search", json={"query": query, "k": 5})
                mine.append(time.perf_counter() - started)
                if response.status_code != 200:
                    with lock:
                        errors.append(f"{response.status_code} {response.text[:100]}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "clients": clients,
        **summary_ms(latencies),
        "queries_per_second": round(len(latencies) / elapsed, 1),
        "errors": len(errors),
    }


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
local queries = {%(queries)s}
local i = 0
request = function()
  i = i + 1
  local body = '{"query": "' .. queries[(i %% #queries) + 1] .. '", "k": 5}'
  return wrk.format(nil, "/v1/indexes/bench/search", nil, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    e.connect + e.read + e.write + e.timeout + e.status, latency:percentile(50),
    latency:percentile(99), latency.mean, summary.duration))
end
"""


def load_wrk(url: str, key: str, clients: int, seconds: float) -> dict[str, Any]:
    """The same load from ``wrk`` (C, epoll): the load generator barely takes CPU from the
    server, which shares the machine's cores with it."""
    script = Path(tempfile.mkdtemp()) / "search.lua"
    queries = ", ".join(json.dumps(q) for q in QUERIES)
    script.write_text(WRK_SCRIPT % {"key": key, "queries": queries})
    threads = min(clients, 2)
    done = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{int(seconds)}s",
         "--timeout", "30s", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    requests, errors, p50, p99, mean, duration = (float(v) for v in line.split()[1:])
    return {
        "clients": clients,
        "p50_ms": round(p50 / 1000, 2),
        "p99_ms": round(p99 / 1000, 2),
        "mean_ms": round(mean / 1000, 2),
        "n": int(requests),
        "queries_per_second": round(requests / (duration / 1e6), 1),
        "errors": int(errors),
    }


def query_embedding_ms(config: Path) -> dict[str, float]:
    """One query at a time through the model, as the server embeds a lone request."""
    from ragops.project import Project

    with Project.open(config, events=None) as project:
        embedder = project.embedder("bench")
        embedder.embed_queries(QUERIES)  # warm
        times = []
        for query in QUERIES * 5:
            started = time.perf_counter()
            embedder.embed_queries([query])
            times.append(time.perf_counter() - started)
    return summary_ms(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=120)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", default="1,8,32")
    args = parser.parse_args()
    require(HF_DOCS)
    import httpx

    import ragops
    from ragops.access import create_key
    from ragops.project import Project

    work = Path(tempfile.mkdtemp(prefix="ragops-bench-serve-"))
    corpus = work / "corpus"
    files = sorted(HF_DOCS.rglob("*.md"))[: args.files]
    for path in files:
        target = corpus / path.relative_to(HF_DOCS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    config = write_project(work / "project", corpus)
    config.write_text(
        config.read_text().replace("include: ['**/*.md']", "include: ['**/*.md'], public: true")
    )

    with Project.open(config, events=None) as project:
        started = time.perf_counter()
        [built] = ragops.sync(project)
        full_build = time.perf_counter() - started
        ragops.promote(project, "bench", built.version or 1)
        read_key = create_key(project.catalog, ["service:bench"], "read").key
        write_key = create_key(project.catalog, ["service:bench"], "write").key
    embedding = query_embedding_ms(config)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (work / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "ragops.cli", "--config", str(config), "serve", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    result: dict[str, Any] = {"benchmark": "serve", "machine": machine()}
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/readyz", trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("the server did not become ready: " + (work / "server.log").read_text())
            time.sleep(0.3)
        load(url, read_key, 4, 2.0)  # warm up
        generator = load_wrk if shutil.which("wrk") else load
        levels = [generator(url, read_key, int(c), args.seconds) for c in args.clients.split(",")]
        result["load_generator"] = "wrk" if generator is load_wrk else "python threads (httpx)"

        # A 1 % change synced through the server: idle, then while 8 clients search.
        step = max(1, math.ceil(len(files) / 100))
        headers = {"Authorization": f"Bearer {write_key}"}
        http = httpx.Client(base_url=url, headers=headers, timeout=600, trust_env=False)

        def sync_change(changed: list[Path], note: str) -> tuple[float, dict[str, Any]]:
            for path in changed:
                target = corpus / path.relative_to(HF_DOCS)
                target.write_text(target.read_text() + f"\n\n{note}\n")
            started = time.perf_counter()
            job = http.post("/v1/indexes/bench/sync").json()
            while (job := http.get(f"/v1/jobs/{job['id']}").json())["state"] in (
                "queued",
                "running",
            ):
                time.sleep(0.02)
            return time.perf_counter() - started, job

        idle_seconds, idle_job = sync_change(files[:step], "Edited, idle server.")
        during: dict[str, Any] = {}
        background = threading.Thread(
            target=lambda: during.update(generator(url, read_key, 8, args.seconds))
        )
        background.start()
        time.sleep(0.5)
        changed = files[step : 2 * step]
        sync_seconds, job = sync_change(changed, "Edited under load.")
        background.join()
        http.close()
        idle_8 = next((lv for lv in levels if lv["clients"] == 8), levels[-1])
        result.update(
            {
                "files": len(files),
                "chunks": built.chunks,
                "full_build_seconds": round(full_build, 2),
                "query_embedding": embedding,
                "levels": levels,
                "during_sync": {
                    **during,
                    "p99_ratio_to_idle": round(during["p99_ms"] / idle_8["p99_ms"], 2),
                },
                "sync_1pct_through_idle_server": {
                    "files_changed": step,
                    "state": idle_job["state"],
                    "seconds": round(idle_seconds, 2),
                    "ratio_to_full_build": round(idle_seconds / full_build, 4),
                    "embedded": (idle_job.get("result") or {}).get("embedded"),
                },
                "sync_1pct_through_server": {
                    "files_changed": len(changed),
                    "state": job["state"],
                    "seconds": round(sync_seconds, 2),
                    "ratio_to_full_build": round(sync_seconds / full_build, 4),
                    "embedded": (job.get("result") or {}).get("embedded"),
                },
            }
        )
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "serve.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
