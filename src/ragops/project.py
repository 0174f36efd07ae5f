"""A ragops project: its configuration and the components built from it, created lazily.

This is the library's one assembly point. The pipeline, the :class:`~ragops.Retriever`, the
CLI and the Dagster code location all go through it, so they agree on where the catalog, the
vector store and the models are. It holds components, never steps: syncing, evaluating and
promoting are functions that take a project (:mod:`ragops.pipeline`,
:mod:`ragops.environments`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ragops.config import EmbeddingConfig, ProjectConfig, load_config
from ragops.errors import ConfigError, RagopsError, StoreLockedError
from ragops.sources import Connector, ConnectorRegistry

if TYPE_CHECKING:  # pragma: no cover
    from ragops.catalog import Catalog, Generation, Lease, LeaseInfo
    from ragops.chunks import Chunker
    from ragops.events import EventSink
    from ragops.queries import QueryLog
    from ragops.store import VectorStore
    from ragops.vectors import Embedder, EmbeddingCache
    from ragops.vectors.batching import QueryBatcher
    from ragops.versions.chunk_store import ChunkStore
    from ragops.versions.spec import IndexSpec

__all__ = ["Project"]


class Project:
    """Everything ragops needs to work on one ``ragops.yaml``.

    Use :meth:`open`; close it (or use ``with``) to release the embedded store's lock.
    """

    def __init__(
        self, config: ProjectConfig, *, events: EventSink | Literal["auto"] | None = "auto"
    ) -> None:
        from ragops.events import EventRecorder, default_sink

        self.config = config
        self.connectors = ConnectorRegistry(config.root)
        #: Where steps record asset events (the project's Dagster instance, if it has one).
        self.events = EventRecorder(default_sink(config) if isinstance(events, str) else events)
        self._catalog: Catalog | None = None
        self._project_id: str | None = None
        self._store: VectorStore | None = None
        self._embedders: dict[str, Embedder] = {}
        self._embedding_caches: dict[str, EmbeddingCache] = {}
        self._query_log: QueryLog | None = None
        self._batchers: dict[int, QueryBatcher] = {}
        #: Embed the queries of concurrent searches in shared batches (``ragops serve``).
        self.batch_queries = False
        self._lock = threading.RLock()

    @classmethod
    def open(
        cls,
        config: str | Path | ProjectConfig | None = None,
        *,
        events: EventSink | Literal["auto"] | None = "auto",
    ) -> Project:
        """Load ``config`` (a path, a loaded config, or None to search) and check it fully.

        Every source's options are checked against its connector now, so a bad configuration
        fails before any work with a message naming the key, the value and the fix.
        ``events``: where syncs, evals and promotions are recorded as asset events; ``"auto"``
        (the project's Dagster instance when it has one, see :mod:`ragops.events`), a sink,
        or None (nowhere: what the Dagster code location uses, its assets report for
        themselves).
        """
        loaded = config if isinstance(config, ProjectConfig) else load_config(config)
        project = cls(loaded, events=events)
        project.validate()
        return project

    @property
    def root(self) -> Path:
        return self.config.root

    def validate(self) -> None:
        """Check what the configuration refers to: connectors and options, prompts, eval sets."""
        for source_name in self.config.sources:
            self.connector_for(source_name)
        from ragops.llm.prompt_files import PROMPT_SUFFIXES, prompt_files

        self._validate_devices()
        prompts = self.config.prompts_path
        for index_name, index in self.config.indexes.items():
            if index.prompt is not None and index.prompt not in prompt_files(prompts):
                files = " or ".join(f"{index.prompt}{suffix}" for suffix in PROMPT_SUFFIXES)
                raise ConfigError(
                    f"indexes.{index_name}.prompt = {index.prompt!r}: no file {files} in "
                    f"{prompts}; add the template or fix the name"
                )
            for eval_set in index.evals:
                path = self.config.eval_path(eval_set)
                if not path.is_file():
                    raise ConfigError(
                        f"indexes.{index_name}.evals.{eval_set.name}.path = "
                        f"{str(eval_set.path)!r}: no file at {path}; fix the path (relative to "
                        "the folder of ragops.yaml)"
                    )

    def _validate_devices(self) -> None:
        """Every embedding device is one this machine's PyTorch can use."""
        from ragops.vectors.devices import device_problem

        checked: dict[str, str | None] = {}
        for index_name, index in self.config.indexes.items():
            key = (
                f"indexes.{index_name}.embedding.device" if index.embedding else "embedding.device"
            )
            device = self.config.embedding_for(index_name).device
            if device not in checked:
                checked[device] = device_problem(device)
            if checked[device] is not None:
                raise ConfigError(f"{key} = {device!r}: {checked[device]}")

    # -- components --------------------------------------------------------------------------

    @property
    def catalog(self) -> Catalog:
        with self._lock:
            if self._catalog is None:
                from ragops.catalog import Catalog

                catalog = Catalog(
                    self.config.catalog_url(), lease_seconds=self.config.catalog.lease_seconds
                )
                try:
                    self._project_id = catalog.identity.ensure(self.config.project)
                except BaseException:
                    catalog.close()
                    raise
                self._catalog = catalog
            return self._catalog

    @property
    def project_id(self) -> str:
        """The project's stable id, recorded in its catalog (it names the collections)."""
        self.catalog  # noqa: B018  (opening the catalog records or reads the id)
        assert self._project_id is not None
        return self._project_id

    @property
    def store(self) -> VectorStore:
        with self._lock:
            if self._store is None:
                from ragops.store import open_store

                try:
                    self._store = open_store(
                        url=self.config.store.url,
                        path=self.config.store_path(),
                        api_key=self.config.store_api_key(),
                    )
                except StoreLockedError as exc:
                    raise self._held_by_server(exc) from None
            return self._store

    def _held_by_server(self, exc: StoreLockedError) -> StoreLockedError:
        """``exc``, naming the project's ragops server when that is what holds the store."""
        from ragops.discovery import running_server

        server = running_server(self.config.data_path)
        if server is None:
            return exc
        return StoreLockedError(
            f"the ragops server of this project (PID {server['pid']}, {server['url']}) holds "
            "the embedded vector store, which admits one process at a time. Go through the "
            f"server instead: its API (POST {server['url']}/v1/indexes/<index>/sync, "
            "/search, /promote; see docs/serving.md) or Retriever.connect; or stop it first"
        )

    def embedder(self, index_name: str) -> Embedder:
        """The embedder of an index (shared between indexes with the same model settings)."""
        return self._embedder_of(self.config.embedding_for(index_name))

    def generation_embedder(self, index_name: str, generation: Generation) -> Embedder:
        """The embedder that makes vectors like a generation's: its spec's model, dtype,
        prefixes and backend, not today's configuration (a version built before the
        configuration changed is searched with queries embedded as its chunks were).
        RagopsError when the installed weights are not the ones it was built with."""
        spec = generation.spec["embedding"]
        current = self.embedder(index_name)
        fields = current.info.fingerprint_fields()
        same = fields == {key: spec.get(key) for key in fields}
        if same and spec.get("backend", "torch") == current.info.backend:
            return current
        backend, _, precision = str(spec.get("backend", "torch")).partition("-")
        settings = self.config.embedding_for(index_name).model_copy(
            update={
                "model": spec["model"],
                "dtype": spec["dtype"],
                "normalize": spec["normalize"],
                "query_prefix": spec["query_prefix"],
                "document_prefix": spec["document_prefix"],
                "backend": backend,
                "quantization": "int8" if precision == "int8" else "none",
            }
        )
        embedder = self._embedder_of(settings)
        if embedder.info.weights_sha256 != spec["weights_sha256"]:
            raise RagopsError(
                f"index {index_name!r} generation {generation.fingerprint[:12]} was built with "
                f"model {spec['model']!r} whose weights differ from the installed ones "
                f"({embedder.path}); install the same model or rebuild with `ragops sync`"
            )
        return embedder

    def _embedder_of(self, settings: EmbeddingConfig) -> Embedder:
        """One Embedder per distinct settings in this project."""
        from ragops.vectors import Embedder

        key = settings.model_dump_json()
        with self._lock:
            if key not in self._embedders:
                self._embedders[key] = Embedder(
                    settings, base=self.root, cache_dir=self.config.data_path / "cache"
                )
            return self._embedders[key]

    @property
    def chunk_store(self) -> ChunkStore:
        """Parquet deltas of every point written (rebuilds collections without re-embedding)."""
        from ragops.versions.chunk_store import ChunkStore

        return ChunkStore(self.config.data_path / "chunks")

    def embedding_cache(self, index_name: str) -> EmbeddingCache:
        """The vectors the index's model already made, by text hash (shared across indexes)."""
        from ragops.vectors import EmbeddingCache

        info = self.embedder(index_name).info
        with self._lock:
            if info.fingerprint not in self._embedding_caches:
                self._embedding_caches[info.fingerprint] = EmbeddingCache(
                    self.config.data_path / "cache" / "embeddings", info.fingerprint, info.dimension
                )
            return self._embedding_caches[info.fingerprint]

    def chunker(self, index_name: str) -> Chunker:
        from ragops.chunks import Chunker

        embedder = self.embedder(index_name)
        return Chunker(
            self.config.index(index_name).chunker, embedder.tokenize, embedder.max_content_tokens
        )

    def index_spec(self, index_name: str) -> IndexSpec:
        from ragops.documents import parser_id
        from ragops.versions.spec import IndexSpec

        index = self.config.index(index_name)
        parsing = self.config.parsing_for(index_name)
        embedder = self.embedder(index_name)
        return IndexSpec(
            index_name=index_name,
            parser={
                "id": parser_id(
                    pdf_strategy=parsing.pdf_strategy,
                    text_classification=parsing.text_classification,
                )
            },
            chunker=self.chunker(index_name).settings(),
            embedding={"model": embedder.info.name, **embedder.info.fingerprint_fields()},
            distance=index.distance,
            stamp=index.stamp,
            context=index.context.spec() if any(index.context.spec().values()) else None,
            sparse=index.sparse.spec(),
        )

    def connector_for(self, source_name: str) -> tuple[Connector, dict[str, Any]]:
        """The connector of a source and its validated options."""
        source = self.config.sources[source_name]
        connector = self.connectors.get(source.connector)
        return connector, connector.validate_options(source_name, source.options)

    # -- names and locks ---------------------------------------------------------------------

    def collection_name(self, index_name: str, fingerprint: str) -> str:
        """The physical collection of one generation (scoped by the project id)."""
        from ragops.versions.spec import collection_name

        return collection_name(self.project_id, index_name, fingerprint)

    def alias_name(self, index_name: str) -> str:
        """The Qdrant alias that follows an index's production generation: ``<project>.<index>``."""
        return f"{self.config.project}.{index_name}"

    def lease(
        self,
        index_name: str,
        purpose: str,
        *,
        wait: float = 0.0,
        on_wait: Callable[[LeaseInfo], None] | None = None,
    ) -> Lease:
        """Take the index's lease (see :mod:`ragops.catalog.leases`); release it when done."""
        from ragops.catalog import index_lease

        self.config.index(index_name)
        return self.catalog.leases.acquire(
            index_lease(index_name), purpose, wait=wait, on_wait=on_wait
        )

    @contextlib.contextmanager
    def hold(self, index_name: str, purpose: str, lease: Lease | None = None) -> Iterator[Lease]:
        """``lease`` when the caller holds it already, else the index's lease for the block."""
        if lease is not None:
            yield lease
            return
        with self.lease(index_name, purpose) as own:
            yield own

    @property
    def query_log(self) -> QueryLog | None:
        """Where searches and asks are recorded (None when ``queries.log`` is off)."""
        if not self.config.queries.log:
            return None
        with self._lock:
            if self._query_log is None:
                from ragops.queries import QueryLog

                self._query_log = QueryLog(
                    self.config.queries_path(), text=self.config.queries.text
                )
            return self._query_log

    def query_batcher(self, embedder: Embedder) -> QueryBatcher:
        """The batcher of ``embedder``'s queries (one per model, started on first use)."""
        with self._lock:
            batcher = self._batchers.get(id(embedder))
            if batcher is None:
                from ragops.vectors.batching import QueryBatcher

                batcher = self._batchers[id(embedder)] = QueryBatcher(embedder)
            return batcher

    def close(self) -> None:
        with self._lock:
            for batcher in self._batchers.values():
                batcher.close()
            self._batchers.clear()
            if self._query_log is not None:
                self._query_log.flush()
            self.events.close()
            if self._store is not None:
                self._store.close()
                self._store = None
            if self._catalog is not None:
                self._catalog.close()
                self._catalog = None
            for cache in self._embedding_caches.values():
                cache.close()
            self._embedding_caches.clear()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
