"""Permissions as a property: random documents with random ACLs, random callers, 10,000
random queries through the library and 10,000 through REST. No hit is a document the caller
may not read, and with k covering the whole index every readable document is found.

What a caller may read is worked out here from the ACLs the test wrote, not by ragops: the
public source's documents, and each document whose ACL names one of the caller's principals
(a document with an empty ACL: nobody but an admin).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import ragops
from ragops import Retriever
from ragops.access import create_key
from ragops.project import Project
from ragops.serve.schemas import MAX_K
from tests.serve.conftest import running_server
from tests.test_permissions import CONNECTOR  # yields each document with its acl.json entry

SEED = 20261206
QUERIES = 10_000
BATCH = 100
PRINCIPALS = [f"user:u{n}" for n in range(6)] + [f"group:g{n}" for n in range(4)]
WORDS = [
    "invoice",
    "server",
    "cluster",
    "backup",
    "rollout",
    "vacation",
    "salary",
    "incident",
    "pager",
    "replica",
    "budget",
    "contract",
    "laptop",
    "badge",
    "parking",
    "roadmap",
    "migration",
    "latency",
    "outage",
    "audit",
    "token",
    "cache",
    "index",
    "deploy",
    "schema",
    "tenant",
    "quota",
    "billing",
    "release",
    "hotfix",
]

CONFIG = """\
project: aclprop
sources:
  open: {connector: filesystem, root: open, public: true}
  restricted: {connector: records, folder: restricted}
indexes:
  docs: {sources: [open, restricted], chunker: {kind: sentence}}
"""


def make_corpus(root: Path, rng: random.Random) -> tuple[set[str], dict[str, list[str]]]:
    """8 public documents and 32 with random ACLs (some empty); one short paragraph each."""
    public, acls = set(), {}
    for n in range(40):
        folder = "open" if n < 8 else "restricted"
        name = f"doc{n:02d}.md"
        words = " ".join(rng.choice(WORDS) for _ in range(12))
        path = root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# Note {n}\n\nThe {words}.\n")
        if folder == "open":
            public.add(name)
        else:
            acls[name] = rng.sample(PRINCIPALS, rng.choice([0, 1, 1, 2, 3]))
    (root / "restricted" / "acl.json").write_text(json.dumps(acls))
    (root / "connectors" / "records").mkdir(parents=True)
    (root / "connectors" / "records" / "__init__.py").write_text(CONNECTOR)
    (root / "ragops.yaml").write_text(CONFIG)
    return public, acls


def readable(caller: list[str], public: set[str], acls: dict[str, list[str]]) -> set[str]:
    return public | {doc for doc, acl in acls.items() if set(acl) & set(caller)}


def random_searches(rng: random.Random, callers: list[list[str]]) -> list[tuple[int, int, list]]:
    """(caller index, k, queries): batches of random queries, 1 in 5 with k covering all."""
    batches = []
    for _ in range(QUERIES // BATCH):
        k = MAX_K if rng.random() < 0.2 else rng.choice([1, 3, 5, 10, 20])
        queries = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6))) for _ in range(BATCH)
        ]
        batches.append((rng.randrange(len(callers)), k, queries))
    return batches


def check(
    caller: list[str],
    k: int,
    results: list[list[ragops.Hit]],
    allowed: set[str],
    chunks_of: dict[str, int],
) -> None:
    """No hit outside ``allowed``; as many hits as k and the readable chunks allow (a filter
    that loses matches fails here); with k covering the index, every readable document."""
    readable_chunks = sum(chunks_of[doc] for doc in allowed)
    for hits in results:
        found = {h.doc_id for h in hits}
        assert found <= allowed, f"{caller} read {sorted(found - allowed)} (seed {SEED})"
        assert len(hits) == min(k, readable_chunks), (caller, k, len(hits), SEED)
        if k >= sum(chunks_of.values()):
            assert found == allowed, f"{caller} missed {sorted(allowed - found)} (seed {SEED})"


def test_no_search_returns_a_document_its_caller_may_not_read(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    public, acls = make_corpus(tmp_path, rng)
    callers = [rng.sample(PRINCIPALS, rng.choice([0, 1, 1, 2, 3])) for _ in range(30)]
    callers += [[]]  # no principal at all: the public documents only
    config = tmp_path / "ragops.yaml"
    with Project.open(config) as project:
        [built] = ragops.sync(project)
        ragops.promote(project, "docs", 1)
        chunks = built.chunks
        assert chunks <= MAX_K, "k must be able to cover the whole index"
        keys = {
            n: create_key(project.catalog, caller or ["user:nobody"], "read").key
            for n, caller in enumerate(callers)
        }
        admin = Retriever(project, "docs").search("anything", k=MAX_K)
        assert {h.doc_id for h in admin} == public | set(acls), "an admin reads everything"
        chunks_of = Counter(h.doc_id for h in admin)

        # the library: 10,000 queries
        for who, k, queries in random_searches(rng, callers):
            caller = callers[who]
            retriever = Retriever(project, "docs", principals=caller, log=False)
            check(caller, k, retriever.search_many(queries, k=k),
                  readable(caller, public, acls), chunks_of)  # fmt: skip

    # REST: 10,000 more, each with the caller's own key
    with running_server(config, {}, {}) as server:
        for who, k, queries in random_searches(rng, callers):
            caller = callers[who]
            with Retriever.connect(server.url, "docs", api_key=keys[who]) as remote:
                results = remote.search_many(queries, k=k)
            check(caller, k, results, readable(caller, public, acls), chunks_of)
