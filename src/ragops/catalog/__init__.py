"""The catalog: what ragops knows about a project's indexes, in a SQL database.

SQLite file by default, PostgreSQL for teams; the schema is kept up to date by Alembic
migrations that run when the catalog opens. :class:`Catalog` gathers one repository per
concern::

    catalog.generations   spec fingerprints and their collections
    catalog.versions      numbered, immutable index versions (commit, prune)
    catalog.documents     what each generation was built from (incremental sync)
    catalog.source_memory what connectors keep between syncs (cursors, state)
    catalog.pointers      index environments and prompt aliases, with history
    catalog.evals         eval results and the evidence they carry
    catalog.prompts       immutable prompt versions
    catalog.leases        the lock of each index, as an expiring, renewed lease
    catalog.audit         forced unlocks and lease takeovers
    catalog.identity      the project's stable id
"""

from __future__ import annotations

from ragops.catalog.api_keys import ApiKeyRecord, ApiKeys
from ragops.catalog.audit import Audit, acting_as, current_actor
from ragops.catalog.database import HEAD_REVISION, Database, migrate
from ragops.catalog.documents import Documents
from ragops.catalog.evals import Evals
from ragops.catalog.generations import Generations
from ragops.catalog.identity import ProjectIdentity
from ragops.catalog.leases import Lease, LeaseInfo, Leases, index_lease
from ragops.catalog.pointers import INDEX, PROMPT, Pointers
from ragops.catalog.prompts import PromptRecord, PromptVersions
from ragops.catalog.records import (
    DocumentState,
    EvalRecord,
    Generation,
    Hold,
    Pointer,
    PointerMove,
    VersionInfo,
)
from ragops.catalog.source_memory import SourceMemories
from ragops.catalog.versions import Versions

__all__ = [
    "ApiKeyRecord",
    "acting_as",
    "HEAD_REVISION",
    "INDEX",
    "PROMPT",
    "Catalog",
    "DocumentState",
    "EvalRecord",
    "Generation",
    "Hold",
    "Lease",
    "LeaseInfo",
    "Pointer",
    "PointerMove",
    "PromptRecord",
    "VersionInfo",
    "current_actor",
    "index_lease",
]


class Catalog:
    """One project's catalog database. Create one per process; it is thread-safe.

    Opening it migrates the schema to this release (one query when it is up to date).
    """

    def __init__(self, url: str, *, lease_seconds: float = 60.0) -> None:
        self.database = Database(url)
        migrate(self.database)
        self.generations = Generations(self.database)
        self.versions = Versions(self.database)
        self.documents = Documents(self.database)
        self.source_memory = SourceMemories(self.database)
        self.pointers = Pointers(self.database)
        self.evals = Evals(self.database)
        self.prompts = PromptVersions(self.database)
        self.audit = Audit(self.database)
        self.api_keys = ApiKeys(self.database)
        self.leases = Leases(self.database, self.audit, lease_seconds)
        self.identity = ProjectIdentity(self.database)

    @property
    def url(self) -> str:
        return self.database.url

    def close(self) -> None:
        self.database.close()
