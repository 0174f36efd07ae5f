"""``ragops serve`` as an application calls it: a real server process on loopback and a real
HTTP client. Keys and scopes are enforced, bad requests get a 4xx that says why and the
server keeps serving, and searches read one promoted version while a sync runs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

import ragops
from ragops import Retriever
from ragops.access import revoke_key
from ragops.errors import AuthenticationError, IndexNotFoundError
from ragops.project import Project
from tests.openai_stub import OpenAIStub, openai_stub  # noqa: F401 (fixture)
from tests.serve.conftest import Server, follow

QUERY = "How often should I water tomatoes?"


def _search(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post("/v1/indexes/docs/search", json={"query": QUERY, **body})


def test_health_openapi_search_and_metrics(server: Server) -> None:
    with server.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {"status": "ready"}
        spec = client.get("/openapi.json").json()
        assert (
            "/v1/indexes/{index}/search" in spec["paths"] and "/v1/jobs/{job_id}" in spec["paths"]
        )
        assert client.get("/docs").status_code == 200

        found = _search(client, k=3)
        assert found.status_code == 200, found.text
        answer = found.json()
        assert (answer["index"], answer["env"], answer["version"]) == ("docs", "production", 1)
        assert len(answer["hits"]) == 3 and answer["hits"][0]["doc_id"] == "gardening.md"
        assert all(h["version"] == 1 for h in answer["hits"])

        listed = client.get("/v1/indexes").json()["indexes"]
        assert listed == [
            {"index": "docs", "latest_version": 1, "environments": {"production": 1}, "held": {}}
        ]
        assert [
            v["version"] for v in client.get("/v1/indexes/docs/versions").json()["versions"]
        ] == [1]

        metrics = client.get("/metrics").text
        assert (
            'ragops_http_requests_total{method="POST",route="/v1/indexes/{index}/search",'
            'status="200"} 1.0' in metrics
        )
        assert 'ragops_searches_total{index="docs",version="1"} 1.0' in metrics


def test_keys_and_scopes_are_enforced(server: Server) -> None:
    with server.client(None) as anonymous:
        missing = _search(anonymous)
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert "no API key" in missing.json()["error"]["message"]
        wrong = anonymous.post(
            "/v1/indexes/docs/search", json={"query": QUERY},
            headers={"Authorization": "Bearer rgk_0123456789ab_" + "x" * 43},
        )  # fmt: skip
        assert wrong.status_code == 401 and "x" * 43 not in wrong.text
    with server.client("read") as reader:
        refused = reader.post("/v1/indexes/docs/promote", json={"version": 1})
        assert refused.status_code == 403, refused.text
        assert (
            "has scope 'read'; this operation needs 'write'" in refused.json()["error"]["message"]
        )
        assert reader.post("/v1/indexes/docs/sync").status_code == 403

        # Revoked while the server runs: refused at the next request.
        with Project.open(server.config, events=None) as project:
            revoke_key(project.catalog, server.key_ids["read"], reason="test")
        revoked = _search(reader)
        assert revoked.status_code == 401 and "was revoked" in revoked.json()["error"]["message"]
    assert server.keys["read"].split("_", 2)[2] not in server.output(), "keys never logged"


def test_bad_requests_get_a_4xx_saying_why_and_the_server_keeps_serving(server: Server) -> None:
    with server.client() as client:
        cases = [
            (client.post("/v1/indexes/docs/search", content=b"{not json",
                         headers={"content-type": "application/json"}), 422, "JSON"),
            (_search(client, k=0), 422, "body.k: Input should be greater than or equal to 1"),
            (_search(client, k=10**6), 422, "body.k: Input should be less than or equal to 100"),
            (_search(client, kk=3), 422, "body.kk: Extra inputs are not permitted"),
            (client.post("/v1/indexes/dosc/search", json={"query": QUERY}), 404,
             "unknown index 'dosc' (did you mean 'docs'?)"),
            (_search(client, env="staging"), 404, "no 'staging' environment"),
            (_search(client, version=9), 404, "9"),
            (client.post("/v1/indexes/docs/search", json={"query": "x" * 1_000_000}), 422,
             "body.query: String should have at most 4096 characters"),
            (client.post("/v1/indexes/docs/search", json={"query": "x" * 2_000_000}), 413,
             "over the limit of 1048576 bytes"),
            (client.get("/v1/jobs/nope"), 404, "no job 'nope'"),
            (_search(client, filters={"colour": "red"}), 400,
             "no chunk of docs version 1 has the field 'colour'"),
        ]  # fmt: skip
        for response, status, message in cases:
            assert response.status_code == status, (status, response.text[:300])
            assert message in response.json()["error"]["message"], response.text[:300]
        assert _search(client).status_code == 200, "still serving"
    assert server.process.poll() is None


def test_retriever_connect_reads_what_the_embedded_retriever_reads(server: Server) -> None:
    with Retriever.connect(server.url, "docs", api_key=server.keys["read"]) as remote:
        hits = remote.search(QUERY, k=3)
        assert [h.doc_id for h in hits][0] == "gardening.md" and remote.last_version == 1
        assert all(h.version == 1 for h in hits)
        [first, second] = remote.search_many([QUERY, "What causes the tides?"], k=1)
        assert (first[0].doc_id, second[0].doc_id) == ("gardening.md", "astronomy.md")
        nodes = remote.as_llama_index(k=2).retrieve(QUERY)
        assert [n.node.node_id for n in nodes] == [h.chunk_id for h in hits[:2]]
        filtered = remote.search(QUERY, k=5, filters={"doc_id": "astronomy.md"})
        assert {h.doc_id for h in filtered} == {"astronomy.md"}
    with (
        Retriever.connect(server.url, "nope", api_key=server.keys["read"]) as unknown,
        pytest.raises(IndexNotFoundError, match="unknown index 'nope'"),
    ):
        unknown.search(QUERY)
    with (
        Retriever.connect(server.url, "docs", api_key="rgk_000000000000_" + "y" * 43) as bad,
        pytest.raises(AuthenticationError, match="unknown API key 000000000000"),
    ):
        bad.search(QUERY)


def test_searches_read_one_promoted_version_while_a_sync_runs(
    server: Server, tmp_path: Path
) -> None:
    """8 clients search without pause while a sync builds version 2 and it is promoted: no
    error, every answer from one version, and version 2 only once the promotion returned."""
    (server.config.parent / "docs" / "bees.md").write_text(
        "# Bees\n\nBees water their hive on hot days and make honey from nectar.\n"
    )
    answers: list[tuple[float, float, int, set[int]]] = []  # (sent, received, version, hits')
    failures: list[str] = []
    stop = threading.Event()

    def client_loop() -> None:
        with server.client() as client:
            while not stop.is_set():
                sent = time.monotonic()
                response = _search(client, k=5)
                received = time.monotonic()
                if response.status_code != 200:
                    failures.append(f"{response.status_code}: {response.text[:200]}")
                    continue
                body = response.json()
                answers.append(
                    (sent, received, body["version"], {h["version"] for h in body["hits"]})
                )

    threads = [threading.Thread(target=client_loop) for _ in range(8)]
    for thread in threads:
        thread.start()
    try:
        with server.client("write") as writer:
            started = writer.post("/v1/indexes/docs/sync")
            assert started.status_code == 202, started.text
            job = follow(writer, started.json(), timeout=300)
            assert job["state"] == "succeeded", job
            assert job["result"]["version"] == 2 and job["result"]["created_version"]
            time.sleep(1.0)  # searches go on against production = 1
            before_promote = time.monotonic()
            promoted = writer.post(
                "/v1/indexes/docs/promote", json={"version": 2, "reason": "bees"}
            )
            after_promote = time.monotonic()
            assert promoted.status_code == 200, promoted.text
            time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert failures == []
    assert len(answers) > 50, len(answers)
    assert all(hits <= {version} for _, _, version, hits in answers), "one version per answer"
    assert all(v == 1 for _, received, v, _ in answers if received < before_promote)
    assert all(v == 2 for sent, _, v, _ in answers if sent > after_promote)
    assert any(v == 2 for *_, v, _ in answers)

    with server.client() as reader:
        [*_, last] = reader.get("/v1/indexes/docs/history").json()["history"]
    assert (last["action"], last["to_version"], last["reason"]) == ("promote", 2, "bees")
    assert last["actor"] == f"key:{server.key_ids['write']} (user:writer)"
    assert last["evidence"]["gates"] == [], "the project has no gates: none checked"


def test_a_key_reads_only_what_its_principals_may_read(tmp_path: Path) -> None:
    from tests.serve.conftest import make_keys, running_server
    from tests.test_permissions import ALL, make_project

    config = make_project(tmp_path / "perms")
    with Project.open(config) as project:
        ragops.sync(project)
        ragops.promote(project, "docs", 1)
        keys, key_ids = make_keys(
            project, {"read": ["user:carol"], "write": ["group:hr"], "admin": ["user:root"]}
        )
    with running_server(config, keys, key_ids) as server:
        found = {}
        for scope in ("read", "write", "admin"):
            with server.client(scope) as client:
                answer = client.post(
                    "/v1/indexes/docs/search", json={"query": "what do we know?", "k": 20}
                )
                assert answer.status_code == 200, answer.text
                found[scope] = {h["doc_id"] for h in answer.json()["hits"]}
        assert found == {
            "read": {"vacation.md", "incident.md"},
            "write": {"vacation.md", "salaries.md"},
            "admin": ALL,
        }
        with Retriever.connect(server.url, "docs", api_key=keys["read"]) as remote:
            assert {h.doc_id for h in remote.search("failover", k=20)} == found["read"]


def test_every_search_through_the_server_is_in_the_query_log(server: Server) -> None:
    from ragops.queries import read_queries

    with server.client("read") as client:
        assert _search(client, k=2).status_code == 200
    folder = server.config.parent / ".ragops" / "queries"
    deadline = time.monotonic() + 10
    while not (rows := read_queries(folder, index="docs")) and time.monotonic() < deadline:
        time.sleep(0.2)  # the server writes its buffer every second
    [row] = rows
    assert (row["kind"], row["face"], row["query"], row["k"]) == ("search", "server", QUERY, 2)
    assert row["principal"] == f"key:{server.key_ids['read']} (user:reader)"
    assert row["version"] == 1 and len(row["doc_ids"]) == 2


def test_the_cli_goes_through_the_running_server(server: Server) -> None:
    """While the server owns the store, the project's CLI searches, syncs, evaluates, promotes,
    rolls back and runs the main job through it (with its local token); a command that needs
    the store itself, or a user who cannot read the token, is told which server holds it."""
    from ragops.queries import read_queries
    from tests.test_cli import as_json, cli

    cwd = server.config.parent
    found = as_json(cli("search", "docs", QUERY, "-k", "2", "--json", cwd=cwd))
    assert found["version"] == 1 and found["hits"][0]["doc_id"] == "gardening.md"
    (cwd / "docs" / "bees.md").write_text("# Bees\n\nBees make honey from nectar.\n")
    [synced] = as_json(cli("sync", "--json", cwd=cwd))["indexes"]
    assert (synced["version"], synced["embedded"]) == (2, 1)
    promoted = as_json(cli("promote", "docs", "2", "--json", cwd=cwd))
    assert (promoted["action"], promoted["to_version"]) == ("promote", 2)
    [evaluated] = as_json(cli("eval", "docs", "--version", "2", "--json", cwd=cwd))["evals"]
    assert (evaluated["version"], evaluated["questions"]) == (2, 4)
    table = cli("eval", "docs", "--version", "2", cwd=cwd)
    title = "docs v2 · questions · hybrid-dbsf/doc_id (4 questions, k 5"
    assert table.returncode == 0 and title in table.stdout
    rolled = cli("rollback", "docs", "--reason", "bees later", cwd=cwd)
    assert rolled.returncode == 0 and "rolled back from version 2 to 1" in rolled.stdout
    assert "held by pytest" in rolled.stdout
    with server.client("read") as reader:
        history = reader.get("/v1/indexes/docs/history").json()["history"]
    assert [(m["action"], m["actor"]) for m in history][-3:] == [
        ("promote", "pytest"), ("rollback", "pytest"), ("hold", "pytest"),
    ]  # fmt: skip
    ran = cli("run", "--query", "honey", cwd=cwd)  # the store is the server's: its job
    assert ran.returncode == 0, ran.stderr
    said = " ".join(ran.stdout.split())
    assert "docs: no change (version 2)" in said
    assert "not promoted to production: it is held by pytest" in said
    assert "sample search: honey" in said
    [item] = as_json(cli("run", "docs", "--json", cwd=cwd))["indexes"]
    assert (item["sync"]["version"], item["promotions"][0]["action"]) == (2, "held")
    with server.client("read") as reader:
        jobs = reader.get("/v1/jobs").json()["jobs"]
    assert [(j["kind"], j["submitted_by"]) for j in jobs[:2]] == [("run", "local")] * 2

    deadline = time.monotonic() + 10
    while len(rows := read_queries(cwd / ".ragops" / "queries")) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert (rows[0]["face"], rows[0]["principal"]) == ("server", "pytest")

    needs_store = cli("gc", "docs", cwd=cwd)  # retention is not an endpoint (yet)
    assert needs_store.returncode == 1
    message = " ".join(needs_store.stderr.split())
    assert f"the ragops server of this project (PID {server.process.pid}, {server.url})" in message
    (cwd / ".ragops" / "server.token").unlink()  # as another user, who cannot read it
    nothing = cli("sync", cwd=cwd)  # nothing to write: only the catalog and sources are read
    assert nothing.returncode == 0 and "no change" in nothing.stdout, nothing.stderr
    (cwd / "docs" / "wasps.md").write_text("# Wasps\n\nWasps make paper nests.\n")
    refused = cli("sync", cwd=cwd)  # something to write: the store is the server's
    assert refused.returncode == 1 and "Go through the server instead" in refused.stderr


def test_a_server_killed_during_a_sync_recovers_at_its_next_start(tmp_path: Path) -> None:
    """SIGKILL after the sync wrote and closed points but before it committed: the next
    server serves version 1 untouched, and its sync builds version 2 exactly."""
    from tests.serve.conftest import make_keys, running_server
    from tests.test_permissions import ALL, make_project

    config = make_project(tmp_path / "perms")
    with Project.open(config) as project:
        ragops.sync(project)
        ragops.promote(project, "docs", 1)
        keys, key_ids = make_keys(project, {"read": ["user:root"], "write": ["user:root"],
                                            "admin": ["user:root"]})  # fmt: skip
    body = {"query": "what do we know?", "k": 20}
    (config.parent / "handbook" / "expenses.md").write_text("# Expenses\n\nKeep receipts.\n")
    (config.parent / "records" / "orphan.md").unlink()
    with running_server(config, keys, key_ids, env={"RAGOPS_KILL_AT": "before_commit"}) as server:
        with server.client("admin") as admin:
            before = admin.post("/v1/indexes/docs/search", json=body).json()
            assert {h["doc_id"] for h in before["hits"]} == ALL
            assert admin.post("/v1/indexes/docs/sync").status_code == 202
        assert server.process.wait(timeout=120) == -9, "killed at before_commit"

    with running_server(config, keys, key_ids) as server, server.client("admin") as admin:
        again = admin.post("/v1/indexes/docs/search", json=body).json()
        assert again["version"] == 1 and again["hits"] == before["hits"], "v1 is untouched"
        job = follow(admin, admin.post("/v1/indexes/docs/sync").json())
        assert job["state"] == "succeeded", job
        assert (job["result"]["version"], job["result"]["created_version"]) == (2, True)
        v2 = admin.post("/v1/indexes/docs/search", json={**body, "version": 2}).json()
        assert {h["doc_id"] for h in v2["hits"]} == (ALL - {"orphan.md"}) | {"expenses.md"}
        assert all(h["version"] == 2 for h in v2["hits"])


def test_ask_and_eval_through_the_server(tmp_path: Path, openai_stub: OpenAIStub) -> None:  # noqa: F811
    from tests.conftest import write_project
    from tests.serve.conftest import make_keys, running_server

    openai_stub.default = "Six to eight hours of sun a day [1]."
    config = write_project(tmp_path / "p", public=True)
    config.write_text(
        config.read_text() + f"llm: {{base_url: '{openai_stub.base_url}', model: m, "
        "price_per_1k_input_tokens: 1.0}\n"
    )
    with Project.open(config) as project:
        ragops.sync(project)
        ragops.promote(project, "docs", 1)
        keys, key_ids = make_keys(
            project, {"read": ["user:ann"], "write": ["user:ann"], "admin": ["user:ann"]}
        )
    with running_server(config, keys, key_ids) as server:
        with server.client("read") as reader:
            answered = reader.post("/v1/indexes/docs/ask", json={"question": QUERY, "k": 2})
            assert answered.status_code == 200, answered.text
            answer = answered.json()
            assert answer["answer"] == "Six to eight hours of sun a day [1]."
            assert answer["index_version"] == 1 and len(answer["contexts"]) == 2
            assert answer["usage"]["prompt_tokens"] == 11 and answer["usage"]["cost"] > 0
            assert reader.post("/v1/indexes/docs/eval", json={}).status_code == 403
        with server.client("write") as writer:
            job = writer.post("/v1/indexes/docs/eval", json={"dataset": "questions"}).json()
            job = follow(writer, job)
            assert job["state"] == "succeeded", job
            [run] = job["result"]["evals"]
            assert (run["dataset"], run["version"]) == ("questions", 1)
            assert run["metrics"]["recall@5"] == 1.0
            unknown = writer.post("/v1/indexes/docs/eval", json={"dataset": "nope"})
            assert unknown.status_code == 400
            assert "unknown eval set 'nope'" in unknown.json()["error"]["message"]
            missing = writer.post("/v1/indexes/docs/eval", json={"version": 7})
            assert missing.status_code == 404, missing.text
    assert QUERY in openai_stub.requests[0].prompt


def test_the_dagster_steps_go_through_the_running_server(server: Server) -> None:
    """While the server owns the store, a Dagster run still stages, builds, evaluates and
    promotes: the steps that need the store are the server's jobs and requests; the rest
    reads and writes the catalog."""
    import dagster as dg

    from dagster_defs import build_definitions

    doc = server.config.parent / "docs" / "bees.md"
    doc.write_text("# Bees\n\nBees make honey from nectar.\n")
    defs = build_definitions(str(server.config))
    result = dg.materialize(
        [*(defs.assets or []), *(defs.asset_checks or [])],  # type: ignore[list-item]
        resources=defs.resources,
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert result.success
    meta = {
        tuple(e.asset_key.path): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None
    }
    assert (meta["docs", "index_version"]["version"], meta["docs", "index_version"]["new"]) == (
        2, 1,
    )  # fmt: skip
    assert meta["docs", "eval"]["version"] == 2
    assert meta["docs", "production"]["version"] == 2
    with server.client("read") as reader:
        jobs = reader.get("/v1/jobs").json()["jobs"]
        found = reader.post("/v1/indexes/docs/search", json={"query": "honey", "k": 1}).json()
    assert [(j["kind"], j["state"]) for j in jobs] == [
        ("eval", "succeeded"),
        ("sync", "succeeded"),
        ("stage", "succeeded"),
    ]  # fmt: skip, newest first
    assert (found["version"], found["hits"][0]["doc_id"]) == (2, "bees.md")
